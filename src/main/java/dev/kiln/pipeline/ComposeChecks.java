package dev.kiln.pipeline;

import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintStore;
import dev.kiln.blueprint.Customizations;
import dev.kiln.blueprint.DiskCustomization;
import dev.kiln.image.OutputTypes;
import dev.kiln.output.OutputType;
import dev.kiln.source.Distros;
import java.util.List;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * What a compose must be, however it is started (the Weldr API's {@code POST /compose} or the {@code prepare} step
 * of an engine start): a committed blueprint, an output type Kiln builds (any type in test mode), customizations
 * that pass their grammar.
 */
@Component
public class ComposeChecks {

    /** Why a compose cannot start; the Weldr API names each with its error id. */
    public enum Reason { UNKNOWN_BLUEPRINT, DISABLED_TYPE, INVALID_CUSTOMIZATIONS }

    /** A compose that cannot start, and why. */
    public static final class Rejected extends Exception {
        private final Reason reason;

        Rejected(Reason reason, String message) {
            super(message);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    /** The blueprint a compose builds and the commit it was at. */
    public record Checked(Blueprint blueprint, String commit) {
    }

    private final BlueprintStore blueprints;
    private final OutputTypes outputTypes;

    ComposeChecks(BlueprintStore blueprints, OutputTypes outputTypes) {
        this.blueprints = blueprints;
        this.outputTypes = outputTypes;
    }

    /** The committed blueprint {@code name} on {@code branch} and its newest commit: what a compose builds. */
    public Checked blueprint(String branch, String name) throws Rejected {
        Optional<Blueprint> blueprint = blueprints.committed(branch, name);
        if (blueprint.isEmpty()) {
            throw new Rejected(Reason.UNKNOWN_BLUEPRINT, "Unknown blueprint name: " + name);
        }
        return new Checked(blueprint.get(), blueprints.changes(branch, name).get(0).commit());
    }

    /** Whether {@code checked} can be built as {@code type} in test mode {@code test}. */
    public void buildable(Checked checked, OutputType type, int test) throws Rejected {
        if (test == 0 && !outputTypes.enabled(type)) {
            throw new Rejected(Reason.DISABLED_TYPE, "Compose type '" + type.id() + "' is disabled: "
                    + outputTypes.whyDisabled(type));
        }
        if (Distros.resolve(checked.blueprint().distro()).isEmpty()) {
            throw new Rejected(Reason.INVALID_CUSTOMIZATIONS, checked.blueprint().name() + ": "
                    + Distros.invalid(checked.blueprint().distro()));
        }
        List<String> problems = new java.util.ArrayList<>(Customizations.problems(checked.blueprint().customizations()));
        if (problems.isEmpty()) {
            problems.addAll(dev.kiln.source.BlueprintKeys.problems(checked.blueprint().customizations()));
        }
        if (!problems.isEmpty()) {
            throw new Rejected(Reason.INVALID_CUSTOMIZATIONS, "Invalid customizations in "
                    + checked.blueprint().name() + ": " + String.join("; ", problems));
        }
        if (type.disk() && Customizations.lvm(checked.blueprint().customizations())) {
            String why = dev.kiln.image.HostTools.whyNoLvm();
            if (why != null) {
                throw new Rejected(Reason.INVALID_CUSTOMIZATIONS, checked.blueprint().name() + ": the layout asks for LVM, which this "
                        + "host cannot write: " + why + "; use plain partitions (partitioning_mode = \"raw\")");
            }
        }
        if (type.disk() && DiskCustomization.uses(checked.blueprint().customizations(), "xfs")) {
            String why = dev.kiln.image.HostTools.whyNoXfs();
            if (why != null) {
                throw new Rejected(Reason.INVALID_CUSTOMIZATIONS, checked.blueprint().name() + ": an xfs file system "
                        + "is asked for, which this host cannot make: " + why);
            }
        }
    }
}
