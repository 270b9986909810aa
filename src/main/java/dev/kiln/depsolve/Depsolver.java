package dev.kiln.depsolve;

import dev.kiln.debian.DebVersion;
import dev.kiln.debian.Relation;
import dev.kiln.debian.Pkg;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns names (with optional version globs) into an exact, closed, conflict-free package set.
 *
 * <p>First the way apt does it: candidates (newest versions), dependencies followed depth first in their order, the
 * first alternative that can be installed, a group left alone when something chosen already satisfies it. When
 * that greedy walk meets a conflict it cannot get around, the whole problem goes to a SAT solver
 * ({@link SatSolve}), which finds a valid set if one exists; the set is then pruned to what the roots need. Every
 * result is checked ({@link SetCheck}) before it is returned.
 */
public final class Depsolver {

    private final PackageIndex index;

    /** A requested name and an optional version glob ({@code *}, {@code 2.4.*}, an exact version). */
    public record Request(String name, String version) {
    }

    public Depsolver(PackageIndex index) {
        this.index = index;
    }

    public PackageIndex index() {
        return index;
    }

    /**
     * Resolves the requests; with {@code withBase} the Essential and Priority: required packages (what a bootable
     * root always holds) are part of the set. The result is sorted by name.
     * <p>
     * With the base comes {@code usr-is-merged} when the repository has it, first: Kiln lays a root out merged-/usr
     * itself (as debootstrap does, and says so with the same package), so bookworm's Essential
     * {@code init-system-helpers} (Depends: {@code usrmerge | usr-is-merged}) is satisfied without the conversion tool
     * {@code usrmerge}, which has nothing to convert in such a tree, and without the perl it pulls in.
     */
    public List<Pkg> solve(List<Request> requests, boolean withBase) throws DepsolveException {
        List<Pkg> roots = new ArrayList<>();
        if (withBase) {
            Pkg merged = index.candidate("usr-is-merged");
            if (merged != null) {
                roots.add(merged);
            }
            roots.addAll(index.base());
        }
        for (Request r : requests) {
            roots.add(root(r));
        }
        Greedy greedy = new Greedy();
        String failure = null;
        for (Pkg root : roots) {
            failure = greedy.install(root, null);
            if (failure != null) {
                break;
            }
        }
        List<Pkg> result;
        if (failure == null) {
            result = new ArrayList<>(greedy.chosen.values());
        } else {
            List<Pkg> model = SatSolve.solve(index, roots);
            if (model == null) {
                throw new DepsolveException(failure);
            }
            result = prune(roots, model);
        }
        String problem = SetCheck.problem(index, result);
        if (problem != null) {
            throw new IllegalStateException("depsolve produced an invalid set: " + problem);
        }
        result.sort(Comparator.comparing((Pkg p) -> p.name));
        return result;
    }

    private Pkg root(Request r) throws DepsolveException {
        String glob = r.version() == null || r.version().isBlank() ? "*" : r.version().strip();
        List<Pkg> versions = index.versions(r.name());
        if (versions.isEmpty()) {
            List<Pkg> providers = index.providersOf(r.name());
            if (providers.isEmpty()) {
                throw new DepsolveException("No package named " + r.name());
            }
            if (!glob.equals("*")) {
                throw new DepsolveException(r.name() + " is a virtual package; a version (" + glob
                        + ") can only be asked of a real one");
            }
            return preferredProvider(providers, Map.of());
        }
        Pattern pattern = globPattern(glob);
        for (Pkg p : versions) {
            if (versionMatches(p, pattern)) {
                return p;
            }
        }
        throw new DepsolveException("No version of " + r.name() + " matches " + glob + " (available: "
                + String.join(", ", versions.stream().map(p -> p.version).toList()) + ")");
    }

    /** A blueprint version glob matches the full version, the version without epoch, or the frozen form. */
    static boolean versionMatches(Pkg p, Pattern glob) {
        DebVersion v = p.debVersion();
        String noEpoch = v.upstream() + (v.revision().isEmpty() ? "" : "-" + v.revision());
        return glob.matcher(p.version).matches() || glob.matcher(noEpoch).matches()
                || glob.matcher(p.version + "." + p.arch).matches() || glob.matcher(noEpoch + "." + p.arch).matches();
    }

    static Pattern globPattern(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }

    private static Pkg preferredProvider(List<Pkg> providers, Map<String, Pkg> chosen) {
        return providers.stream().min(Comparator
                .comparing((Pkg p) -> chosen.get(p.name) == p ? 0 : 1)
                .thenComparing(PackageIndex::priorityRank)
                .thenComparing(p -> p.name)
                .thenComparing((a, b) -> b.debVersion().compareTo(a.debVersion()))).orElseThrow();
    }

    /** The apt-like walk; {@link #install} answers null on success or what blocked it. */
    private final class Greedy {
        final Map<String, Pkg> chosen = new LinkedHashMap<>();
        /** name (own or provided) → chosen packages answering to it. */
        final Map<String, List<Pkg>> answering = new HashMap<>();
        /** name → (relation, declarer) of the Conflicts/Breaks of chosen packages. */
        final Map<String, List<Object[]>> conflicts = new HashMap<>();

        String install(Pkg p, Pkg requiredBy) {
            Pkg already = chosen.get(p.name);
            if (already == p) {
                return null;
            }
            String blocked = blocker(p);
            if (blocked != null) {
                return (requiredBy == null ? "" : requiredBy + " needs " + p.name + ", but ") + blocked;
            }
            add(p);
            for (List<Relation> group : p.dependencies()) {
                if (satisfied(group)) {
                    continue;
                }
                String why = installOneOf(group, p);
                if (why != null) {
                    return why;
                }
            }
            return null;
        }

        private String installOneOf(List<Relation> group, Pkg requiredBy) {
            List<String> reasons = new ArrayList<>();
            for (Relation alt : group) {
                List<Pkg> options = new ArrayList<>();
                Pkg candidate = index.candidate(alt.name());
                if (candidate != null) {
                    for (Pkg v : index.versions(alt.name())) {
                        if (index.satisfies(v, alt)) {
                            options.add(v);
                        }
                    }
                } else {
                    List<Pkg> providers = new ArrayList<>();
                    for (Pkg v : index.providersOf(alt.name())) {
                        if (index.satisfies(v, alt) && index.candidate(v.name) == v) {
                            providers.add(v);
                        }
                    }
                    if (!providers.isEmpty()) {
                        options.add(preferredProvider(providers, chosen));
                        providers.stream().filter(v -> v != options.get(0)).forEach(options::add);
                    }
                }
                if (options.isEmpty()) {
                    reasons.add(candidate == null && index.providersOf(alt.name()).isEmpty()
                            ? "no package provides " + alt.name()
                            : "no version of " + alt.name() + " satisfies " + alt + " (have "
                                    + String.join(", ", index.versions(alt.name()).stream().map(v -> v.version).toList())
                                    + ")");
                    continue;
                }
                for (Pkg option : options) {
                    String blocked = blocker(option);
                    if (blocked == null) {
                        return install(option, requiredBy);
                    }
                    reasons.add(blocked);
                }
            }
            return requiredBy + " depends on " + group.stream().map(Relation::toString)
                    .reduce((a, b) -> a + " | " + b).orElse("") + ", but " + String.join("; ", reasons);
        }

        private boolean satisfied(List<Relation> group) {
            for (Relation alt : group) {
                for (Pkg p : answering.getOrDefault(alt.name(), List.of())) {
                    if (index.satisfies(p, alt)) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** Why {@code p} cannot join the chosen set, or null. */
        private String blocker(Pkg p) {
            Pkg other = chosen.get(p.name);
            if (other != null && other != p) {
                return p + " cannot be installed next to " + other;
            }
            List<String> names = new ArrayList<>();
            names.add(p.name);
            p.provides().forEach(pr -> names.add(pr.name()));
            for (String n : names) {
                for (Object[] decl : conflicts.getOrDefault(n, List.of())) {
                    Relation r = (Relation) decl[0];
                    Pkg declarer = (Pkg) decl[1];
                    if (declarer != p && index.satisfies(p, r)) {
                        return declarer + " conflicts with " + r + " (" + p + ")";
                    }
                }
            }
            for (List<Relation> group : p.conflicts()) {
                for (Relation r : group) {
                    for (Pkg q : answering.getOrDefault(r.name(), List.of())) {
                        if (q != p && index.satisfies(q, r)) {
                            return p + " conflicts with " + r + " (" + q + " is in the set)";
                        }
                    }
                }
            }
            return null;
        }

        private void add(Pkg p) {
            chosen.put(p.name, p);
            answering.computeIfAbsent(p.name, k -> new ArrayList<>()).add(p);
            p.provides().forEach(pr -> answering.computeIfAbsent(pr.name(), k -> new ArrayList<>()).add(p));
            for (List<Relation> group : p.conflicts()) {
                for (Relation r : group) {
                    conflicts.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(new Object[] {r, p});
                }
            }
        }
    }

    /** The part of a SAT model that the roots need, choosing among true alternatives in apt's order. */
    private List<Pkg> prune(List<Pkg> roots, List<Pkg> model) {
        Map<String, Pkg> inModel = new HashMap<>();
        model.forEach(p -> inModel.put(p.name, p));
        Map<String, Pkg> kept = new LinkedHashMap<>();
        ArrayList<Pkg> stack = new ArrayList<>();
        for (Pkg r : roots) {
            stack.add(inModel.getOrDefault(r.name, r));
        }
        while (!stack.isEmpty()) {
            Pkg p = stack.remove(stack.size() - 1);
            if (kept.putIfAbsent(p.name, p) != null) {
                continue;
            }
            for (List<Relation> group : p.dependencies()) {
                Pkg pick = null;
                for (Relation alt : group) {
                    for (Pkg c : index.candidatesFor(alt)) {
                        if (inModel.get(c.name) == c) {
                            pick = kept.getOrDefault(c.name, c);
                            break;
                        }
                    }
                    if (pick != null) {
                        break;
                    }
                }
                if (pick != null) {
                    stack.add(pick);
                }
            }
        }
        return new ArrayList<>(kept.values());
    }
}
