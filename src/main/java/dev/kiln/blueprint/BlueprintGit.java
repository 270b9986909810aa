package dev.kiln.blueprint;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.TagBuilder;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevSort;
import org.eclipse.jgit.revwalk.RevTag;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * The plumbing of the blueprint repository: commits of a flat tree of files made without a work tree, refs moved
 * only from the value they had, branches started from {@code master}, commits named by (abbreviated) id, revision
 * tags. {@link BlueprintStore} says what the blueprints mean.
 */
final class BlueprintGit {

    private static final Pattern COMMIT = Pattern.compile("[0-9a-fA-F]{7,40}");
    private static final Pattern REVISION = Pattern.compile("r([1-9][0-9]{0,8})");

    final Repository repo;

    BlueprintGit(Repository repo) {
        this.repo = repo;
    }

    ObjectId commit(String branch, ObjectId parent, Map<String, ObjectId> entries, String message)
            throws IOException {
        try (ObjectInserter inserter = repo.newObjectInserter()) {
            TreeFormatter tree = new TreeFormatter();
            new TreeMap<>(entries).forEach((file, blob) -> tree.append(file, FileMode.REGULAR_FILE, blob));
            CommitBuilder commit = new CommitBuilder();
            commit.setTreeId(inserter.insert(tree));
            if (parent != null) {
                commit.setParentId(parent);
            }
            commit.setAuthor(ident());
            commit.setCommitter(ident());
            commit.setMessage(message);
            ObjectId id = inserter.insert(commit);
            inserter.flush();
            updateRef(Constants.R_HEADS + branch, id, parent);
            return id;
        }
    }

    /** Moves a ref from {@code expected} (null: the ref must not exist yet) to {@code id}, or fails. */
    void updateRef(String ref, ObjectId id, ObjectId expected) throws IOException {
        RefUpdate update = repo.updateRef(ref);
        update.setNewObjectId(id);
        update.setExpectedOldObjectId(expected == null ? ObjectId.zeroId() : expected);
        RefUpdate.Result result = update.update();
        switch (result) {
            case NEW, FAST_FORWARD, FORCED -> { }
            default -> throw new IllegalStateException("cannot update " + ref + ": " + result);
        }
    }

    static PersonIdent ident() {
        return new PersonIdent("kiln", "kiln@localhost");
    }

    ObjectId head(String branch) throws IOException {
        return head(branch, false);
    }

    /** The branch's head; with {@code create}, a missing branch is started from master's head. */
    ObjectId head(String branch, boolean create) throws IOException {
        BlueprintNames.requireBranch(branch);
        ObjectId head = repo.resolve(Constants.R_HEADS + branch);
        if (head == null && create && !branch.equals(BlueprintStore.DEFAULT_BRANCH)) {
            head = repo.resolve(Constants.R_HEADS + BlueprintStore.DEFAULT_BRANCH);
            updateRef(Constants.R_HEADS + branch, head, null);
        }
        return head;
    }

    Map<String, ObjectId> tree(ObjectId commit) throws IOException {
        Map<String, ObjectId> entries = new TreeMap<>();
        try (RevWalk walk = new RevWalk(repo); TreeWalk tw = new TreeWalk(repo)) {
            tw.addTree(walk.parseCommit(commit).getTree());
            while (tw.next()) {
                entries.put(tw.getPathString(), tw.getObjectId(0));
            }
        }
        return entries;
    }

    ObjectId blob(RevCommit commit, String file) throws IOException {
        try (TreeWalk tw = TreeWalk.forPath(repo, file, commit.getTree())) {
            return tw == null ? null : tw.getObjectId(0);
        }
    }

    ObjectId resolveCommit(String commit) {
        if (commit == null || !COMMIT.matcher(commit).matches()) {
            throw BlueprintException.unknownCommit("Unknown commit");
        }
        try (RevWalk walk = new RevWalk(repo)) {
            ObjectId id = repo.resolve(commit + "^{commit}");
            if (id == null) {
                throw BlueprintException.unknownCommit("Unknown commit");
            }
            return walk.parseCommit(id);
        } catch (IOException | RuntimeException e) {
            if (e instanceof BlueprintException be) {
                throw be;
            }
            throw BlueprintException.unknownCommit("Unknown commit");
        }
    }

    /** Revision numbers per commit, from the tags {@code <branch>/<name>.toml/r<N>}. */
    Map<ObjectId, List<Integer>> revisions(RevWalk walk, String branch, String file) throws IOException {
        Map<ObjectId, List<Integer>> revisions = new HashMap<>();
        String prefix = Constants.R_TAGS + branch + "/" + file + "/";
        for (Ref ref : repo.getRefDatabase().getRefsByPrefix(prefix)) {
            Matcher m = REVISION.matcher(ref.getName().substring(prefix.length()));
            if (!m.matches()) {
                continue;
            }
            RevObject target = walk.parseAny(ref.getObjectId());
            while (target instanceof RevTag tag) {
                target = walk.parseAny(tag.getObject());
            }
            revisions.computeIfAbsent(target.copy(), k -> new ArrayList<>()).add(Integer.parseInt(m.group(1)));
        }
        return revisions;
    }

    /** An annotated tag {@code name} of {@code commit}, by Kiln; a tag of that name must not exist yet. */
    void tag(String name, ObjectId commit) throws IOException {
        try (ObjectInserter inserter = repo.newObjectInserter()) {
            TagBuilder tag = new TagBuilder();
            tag.setTag(name);
            tag.setObjectId(commit, Constants.OBJ_COMMIT);
            tag.setTagger(ident());
            tag.setMessage(name);
            ObjectId tagId = inserter.insert(tag);
            inserter.flush();
            updateRef(Constants.R_TAGS + name, tagId, null);
        }
    }

    /** The commits from {@code head} back whose {@code file} differs from every parent's, newest first. */
    List<RevCommit> changesOf(ObjectId head, String file) throws IOException {
        try (RevWalk walk = new RevWalk(repo); RevWalk lookup = new RevWalk(repo)) {
            walk.sort(RevSort.TOPO);
            walk.sort(RevSort.COMMIT_TIME_DESC, true);
            walk.markStart(walk.parseCommit(head));
            List<RevCommit> changes = new ArrayList<>();
            for (RevCommit c : walk) {
                ObjectId blob = blob(c, file);
                if (blob == null) {
                    continue;
                }
                boolean differs = true;
                for (RevCommit parent : c.getParents()) {
                    if (blob.equals(blob(lookup.parseCommit(parent), file))) {
                        differs = false;
                        break;
                    }
                }
                if (differs) {
                    changes.add(c);
                }
            }
            return changes;
        }
    }
}
