package dev.kiln.blueprint;

import dev.kiln.KilnProperties;
import dev.kiln.store.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Blueprints with their history, kept as lorax kept them: a bare git repository ({@code blueprints/git}, branch
 * {@code master}) with one {@code <name>.toml} per blueprint at the top of the tree, revision tags
 * {@code <branch>/<name>.toml/r<N>}, and workspace copies as plain files in {@code git/workspace/<branch>/}.
 */
@Component
public class BlueprintStore implements DisposableBean {

    public static final String DEFAULT_BRANCH = "master";
    static final String ROOT_MESSAGE = "Initial Recipe repository commit";
    private static final List<String> EXAMPLES = List.of("example-atlas", "example-development", "example-http-server");

    private final Repository repo;
    private final BlueprintGit git;
    private final Workspace workspace;

    /** One entry of a blueprint's history; {@code revision} is null unless the commit carries exactly one tag. */
    public record Change(String commit, String message, Integer revision, Instant timestamp) {
    }

    /** A blueprint as {@code info} reports it: the workspace copy if any, and whether it differs from git. */
    public record Info(Blueprint blueprint, boolean changed) {
    }

    @Autowired
    public BlueprintStore(KilnProperties properties) {
        this(properties.blueprintsDir());
    }

    BlueprintStore(Path blueprintsDir) {
        Path gitDir = blueprintsDir.resolve("git");
        this.workspace = new Workspace(gitDir.resolve("workspace"));
        // nodes sharing the state directory start together: one makes and seeds the repository, the others wait
        try (FileChannel lock = initLock(blueprintsDir); FileLock held = lock.lock()) {
            boolean fresh = !Files.exists(gitDir.resolve("HEAD"));
            if (fresh) {
                Files.createDirectories(gitDir);
                Git.init().setBare(true).setGitDir(gitDir.toFile()).setInitialBranch(DEFAULT_BRANCH).call().close();
            }
            this.repo = new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build();
            this.git = new BlueprintGit(repo);
            if (repo.resolve(Constants.R_HEADS + DEFAULT_BRANCH) == null) {
                git.commit(DEFAULT_BRANCH, null, Map.of(), ROOT_MESSAGE);
                for (String example : EXAMPLES) {
                    push(DEFAULT_BRANCH, BlueprintParser.parseToml(resource("/blueprints/" + example + ".toml")));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the blueprint repository in " + gitDir, e);
        } catch (GitAPIException e) {
            throw new IllegalStateException("cannot create the blueprint repository in " + gitDir, e);
        }
    }

    private static FileChannel initLock(Path blueprintsDir) throws IOException {
        Files.createDirectories(blueprintsDir);
        return FileChannel.open(blueprintsDir.resolve(".init.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = BlueprintStore.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void destroy() {
        repo.close();
    }

    /** Names of the blueprints committed on the branch, sorted by file name. */
    public synchronized List<String> list(String branch) {
        try {
            ObjectId head = git.head(branch);
            return head == null ? List.of() : git.tree(head).keySet().stream()
                    .filter(f -> f.endsWith(".toml")).map(f -> f.substring(0, f.length() - 5)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public synchronized Optional<Blueprint> committed(String branch, String name) {
        BlueprintNames.require(name);
        try {
            ObjectId head = git.head(branch);
            return head == null ? Optional.empty() : Optional.ofNullable(blueprintAt(head, name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public synchronized Optional<Blueprint> workspace(String branch, String name) {
        Path file = workspace.file(branch, name);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(BlueprintParser.parseToml(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The workspace copy if there is one, else the committed one. */
    public synchronized Optional<Info> info(String branch, String name) {
        Optional<Blueprint> committed = committed(branch, name);
        Optional<Blueprint> workspace = workspace(branch, name);
        if (workspace.isPresent()) {
            return Optional.of(new Info(workspace.get(), !workspace.equals(committed)));
        }
        return committed.map(b -> new Info(b, false));
    }

    /** Commits that changed the blueprint, newest first (a deleted blueprint keeps its history). */
    public synchronized List<Change> changes(String branch, String name) {
        BlueprintNames.require(name);
        try (RevWalk lookup = new RevWalk(repo)) {
            ObjectId head = git.head(branch);
            if (head == null) {
                return List.of();
            }
            Map<ObjectId, List<Integer>> revisions = git.revisions(lookup, branch, fileName(name));
            List<Change> changes = new ArrayList<>();
            for (RevCommit c : git.changesOf(head, fileName(name))) {
                List<Integer> revs = revisions.getOrDefault(c, List.of());
                changes.add(new Change(c.name(), c.getFullMessage(), revs.size() == 1 ? revs.get(0) : null,
                        Instant.ofEpochSecond(c.getCommitTime())));
            }
            return changes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The blueprint as stored in one commit. */
    public synchronized Blueprint atCommit(String branch, String name, String commit) {
        BlueprintNames.require(name);
        if (changes(branch, name).isEmpty()) {
            throw BlueprintException.unknownCommit("Unknown blueprint");
        }
        ObjectId id = git.resolveCommit(commit);
        try {
            Blueprint blueprint = blueprintAt(id, name);
            if (blueprint == null) {
                throw BlueprintException.invalid(name + " is not in commit " + commit);
            }
            return blueprint;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Resolves a diff end: {@code NEWEST} (the committed blueprint), {@code WORKSPACE} (the workspace copy, or
     * NEWEST without one) or a commit id.
     */
    public synchronized Blueprint resolve(String branch, String name, String ref) {
        return switch (ref) {
            case "NEWEST" -> committed(branch, name)
                    .orElseThrow(() -> BlueprintException.unknown("Unknown blueprint name: " + name));
            case "WORKSPACE" -> workspace(branch, name).or(() -> committed(branch, name))
                    .orElseThrow(() -> BlueprintException.unknown("Unknown blueprint name: " + name));
            default -> atCommit(branch, name, ref);
        };
    }

    /**
     * Commits a blueprint with lorax's version rule (no version or the same version as committed → PATCH+1, none
     * committed and none given → 0.0.1, a different version is kept) and refreshes the workspace copy.
     */
    public synchronized Blueprint push(String branch, Blueprint blueprint) {
        BlueprintNames.requireBranch(branch);
        String old = committed(branch, blueprint.name()).map(Blueprint::version).orElse(null);
        String given = blueprint.version();
        String version;
        if (old == null) {
            version = given == null ? "0.0.1" : given;
        } else {
            version = given == null || given.equals(old) ? SemVer.nextPatch(old) : given;
        }
        Blueprint stored = blueprint.withVersion(version);
        writeFile(branch, stored, "Recipe " + stored.name() + ", version " + version + " saved.");
        return stored;
    }

    public synchronized void saveWorkspace(String branch, Blueprint blueprint) {
        BlueprintNames.requireBranch(branch);
        try {
            AtomicFiles.writeString(workspace.file(branch, blueprint.name()), blueprint.toToml());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public synchronized void deleteWorkspace(String branch, String name) {
        try {
            if (!Files.deleteIfExists(workspace.file(branch, name))) {
                throw BlueprintException.invalid("Unknown blueprint: " + name);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the workspace copy and commits the file's removal; the history stays. */
    public synchronized void delete(String branch, String name) {
        BlueprintNames.requireBranch(branch);
        if (committed(branch, name).isEmpty()) {
            throw BlueprintException.invalid("Unknown blueprint: " + name);
        }
        try {
            Files.deleteIfExists(workspace.file(branch, name));
            ObjectId head = git.head(branch);
            Map<String, ObjectId> entries = new TreeMap<>(git.tree(head));
            entries.remove(fileName(name));
            git.commit(branch, head, entries, "Recipe " + fileName(name) + " deleted");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes a new commit holding the blueprint as it was in {@code commit} (works for deleted blueprints too). */
    public synchronized void undo(String branch, String name, String commit) {
        BlueprintNames.requireBranch(branch);
        BlueprintNames.require(name);
        if (changes(branch, name).isEmpty()) { // no history at all: the blueprint is unknown, whatever the commit
            throw BlueprintException.unknown("Unknown blueprint name: " + name);
        }
        ObjectId id = git.resolveCommit(commit);
        try (RevWalk walk = new RevWalk(repo)) {
            ObjectId blob = git.blob(walk.parseCommit(id), fileName(name));
            if (blob == null) {
                throw BlueprintException.unknownCommit(fileName(name) + " is not in commit " + commit);
            }
            ObjectId head = git.head(branch, true);
            Map<String, ObjectId> entries = new TreeMap<>(git.tree(head));
            entries.put(fileName(name), blob);
            git.commit(branch, head, entries, fileName(name) + " reverted to commit " + id.name());
            AtomicFiles.write(workspace.file(branch, name), repo.open(blob).getBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tags the blueprint's newest commit as revision N+1; a newest commit already tagged is left as it is. */
    public synchronized void tag(String branch, String name) {
        BlueprintNames.requireBranch(branch);
        if (committed(branch, name).isEmpty()) {
            throw BlueprintException.unknown("Unknown blueprint name: " + name);
        }
        Change newest = changes(branch, name).get(0);
        try (RevWalk walk = new RevWalk(repo)) {
            Map<ObjectId, List<Integer>> revisions = git.revisions(walk, branch, fileName(name));
            if (revisions.containsKey(ObjectId.fromString(newest.commit()))) {
                return;
            }
            int next = revisions.values().stream().flatMap(List::stream).mapToInt(Integer::intValue).max().orElse(0) + 1;
            git.tag(branch + "/" + fileName(name) + "/r" + next, ObjectId.fromString(newest.commit()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void writeFile(String branch, Blueprint blueprint, String message) {
        try {
            byte[] content = blueprint.toToml().getBytes(StandardCharsets.UTF_8);
            ObjectId head = git.head(branch, true);
            Map<String, ObjectId> entries = new TreeMap<>(git.tree(head));
            try (ObjectInserter inserter = repo.newObjectInserter()) {
                entries.put(fileName(blueprint.name()), inserter.insert(Constants.OBJ_BLOB, content));
                inserter.flush();
            }
            git.commit(branch, head, entries, message);
            AtomicFiles.write(workspace.file(branch, blueprint.name()), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Blueprint blueprintAt(ObjectId commit, String name) throws IOException {
        try (RevWalk walk = new RevWalk(repo)) {
            ObjectId blob = git.blob(walk.parseCommit(commit), fileName(name));
            return blob == null ? null
                    : BlueprintParser.parseToml(new String(repo.open(blob).getBytes(), StandardCharsets.UTF_8));
        }
    }

    private static String fileName(String name) {
        return BlueprintNames.require(name) + ".toml";
    }
}
