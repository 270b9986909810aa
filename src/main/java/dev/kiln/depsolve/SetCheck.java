package dev.kiln.depsolve;

import dev.kiln.debian.Pkg;
import dev.kiln.debian.Relation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What makes a package set installable, checked on the set alone: every solver's answer passes it. */
public final class SetCheck {

    private SetCheck() {
    }

    /**
     * Checks a set on its own terms: one version per name, every dependency group satisfied inside the set, no
     * Conflicts or Breaks between two members. Returns the first problem, or null.
     */
    public static String problem(PackageIndex index, List<Pkg> set) {
        Map<String, List<Pkg>> answering = new HashMap<>();
        Map<String, Pkg> names = new HashMap<>();
        for (Pkg p : set) {
            Pkg twin = names.put(p.name, p);
            if (twin != null && twin != p) {
                return "two versions of " + p.name;
            }
            answering.computeIfAbsent(p.name, k -> new ArrayList<>()).add(p);
            p.provides().forEach(pr -> answering.computeIfAbsent(pr.name(), k -> new ArrayList<>()).add(p));
        }
        for (Pkg p : set) {
            for (List<Relation> group : p.dependencies()) {
                boolean ok = group.stream().anyMatch(alt -> answering.getOrDefault(alt.name(), List.of()).stream()
                        .anyMatch(q -> index.satisfies(q, alt)));
                if (!ok) {
                    return p + " depends on " + group + ", which nothing in the set satisfies";
                }
            }
            for (List<Relation> group : p.conflicts()) {
                for (Relation r : group) {
                    for (Pkg q : answering.getOrDefault(r.name(), List.of())) {
                        if (q != p && index.satisfies(q, r)) {
                            return p + " conflicts with " + q;
                        }
                    }
                }
            }
        }
        return null;
    }
}
