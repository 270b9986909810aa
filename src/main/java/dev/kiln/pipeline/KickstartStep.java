package dev.kiln.pipeline;

import dev.kiln.depsolve.DepsFile;
import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.blueprint.TomlWriter;
import dev.kiln.kickstart.FinalKickstart;
import dev.kiln.kickstart.Kickstart;
import dev.kiln.kickstart.KickstartTemplates;
import dev.kiln.source.Distro;
import dev.kiln.source.Distros;
import dev.kiln.source.SourceStore;
import dev.kiln.store.ResultsDir;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * {@code kickstart}: copies the type's template to {@code <type>.ks} and renders {@code final-kickstart.ks} (the
 * build's plan) and {@code config.toml} (the build settings; {@code image_name} names the output file).
 */
@Component
class KickstartStep implements ComposeStep {

    private final KickstartTemplates templates;
    private final SourceStore sources;

    KickstartStep(KickstartTemplates templates, SourceStore sources) {
        this.templates = templates;
        this.sources = sources;
    }

    @Override
    public String topic() {
        return "kickstart";
    }

    @Override
    public void execute(ComposeTask task) throws StepFailedException {
        ResultsDir results = task.results();
        String templateText = templates.text(task.type());
        Blueprint frozen = BlueprintParser.parseToml(results.read(ResultsDir.FROZEN));
        List<String> pins = DepsFile.read(results.read(ResultsDir.DEPS)).stream().map(DepsFile::pin).sorted().toList();
        results.write(task.type().id() + ".ks", templateText);
        String header = "final-kickstart.ks of compose " + task.uuid() + ": " + frozen.name() + " " + frozen.version()
                + ", " + task.type().id();
        String plan;
        try {
            plan = FinalKickstart.render(header, Kickstart.parse(templateText), frozen,
                    sources.forDistro(distro(frozen).name()), pins);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new StepFailedException("the build plan cannot be written: " + e.getMessage());
        }
        results.write(ResultsDir.FINAL_KICKSTART, plan);
        results.write(ResultsDir.CONFIG, config(task, frozen));
    }

    /** The distribution the compose builds: the blueprint's (checked when it was started), else the host's. */
    private static Distro distro(Blueprint frozen) throws StepFailedException {
        return Distros.distro(frozen.distro()).orElseThrow(() -> new StepFailedException(Distros.invalid(frozen.distro())));
    }

    private String config(ComposeTask task, Blueprint frozen) throws StepFailedException {
        Distro distro = distro(frozen);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("image_type", task.type().id());
        c.put("image_name", task.type().imageName());
        c.put("image_size", task.size());
        c.put("compression", task.type().imageName().endsWith(".xz") ? "xz" : "");
        c.put("title", distro.prettyName());
        c.put("project", distro.id());
        c.put("releasever", distro.versionId());
        c.put("extra_boot_args", frozen.customizations().get("kernel") instanceof Map<?, ?> k
                && k.get("append") instanceof String a ? a : "");
        c.put("test", (long) task.test());
        c.put("ks", List.of(task.results().file(ResultsDir.FINAL_KICKSTART).toString()));
        c.put("logfile", task.results().file(ResultsDir.LOGS).toString() + "/");
        return TomlWriter.write(c);
    }
}
