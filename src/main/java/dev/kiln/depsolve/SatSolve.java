package dev.kiln.depsolve;

import dev.kiln.debian.Relation;
import dev.kiln.debian.Pkg;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat4j.core.VecInt;
import org.sat4j.minisat.SolverFactory;
import org.sat4j.specs.ContradictionException;
import org.sat4j.specs.ISolver;
import org.sat4j.specs.TimeoutException;

/**
 * The complete fallback: every package version reachable from the roots is a boolean; dependencies, conflicts and
 * one-version-per-name are clauses; Sat4j finds an installable set if one exists.
 */
final class SatSolve {

    private SatSolve() {
    }

    /** A valid set containing the roots' names, or null when none exists. */
    static List<Pkg> solve(PackageIndex index, List<Pkg> roots) {
        Map<Pkg, Integer> vars = new LinkedHashMap<>();
        Deque<Pkg> todo = new ArrayDeque<>();
        roots.forEach(r -> enqueue(r, vars, todo));
        while (!todo.isEmpty()) {
            Pkg p = todo.poll();
            for (List<Relation> group : p.dependencies()) {
                for (Relation alt : group) {
                    for (Pkg c : index.candidatesFor(alt)) {
                        enqueue(c, vars, todo);
                    }
                }
            }
        }
        ISolver solver = SolverFactory.newDefault();
        solver.newVar(vars.size());
        solver.setTimeout(60);
        try {
            for (Pkg r : roots) { // each root exactly as chosen (its version matched the request's glob)
                solver.addClause(vec(List.of(vars.get(r))));
            }
            Map<String, List<Pkg>> byName = new HashMap<>();
            for (Pkg p : vars.keySet()) {
                byName.computeIfAbsent(p.name, k -> new ArrayList<>()).add(p);
                for (List<Relation> group : p.dependencies()) {
                    List<Integer> clause = new ArrayList<>();
                    clause.add(-vars.get(p));
                    for (Relation alt : group) {
                        for (Pkg c : index.candidatesFor(alt)) {
                            clause.add(vars.get(c));
                        }
                    }
                    solver.addClause(vec(clause));
                }
            }
            for (Pkg p : vars.keySet()) {
                for (List<Relation> group : p.conflicts()) {
                    for (Relation r : group) {
                        for (Pkg q : index.candidatesFor(r)) {
                            Integer qv = vars.get(q);
                            if (qv != null && q != p) {
                                solver.addClause(vec(List.of(-vars.get(p), -qv)));
                            }
                        }
                    }
                }
            }
            for (List<Pkg> versions : byName.values()) {
                for (int i = 0; i < versions.size(); i++) {
                    for (int j = i + 1; j < versions.size(); j++) {
                        solver.addClause(vec(List.of(-vars.get(versions.get(i)), -vars.get(versions.get(j)))));
                    }
                }
            }
            if (!solver.isSatisfiable()) {
                return null;
            }
            List<Pkg> model = new ArrayList<>();
            vars.forEach((p, v) -> {
                if (solver.model(v)) {
                    model.add(p);
                }
            });
            return model;
        } catch (ContradictionException e) {
            return null;
        } catch (TimeoutException e) {
            return null;
        }
    }

    private static void enqueue(Pkg p, Map<Pkg, Integer> vars, Deque<Pkg> todo) {
        if (!vars.containsKey(p)) {
            vars.put(p, vars.size() + 1);
            todo.add(p);
        }
    }

    private static VecInt vec(List<Integer> literals) {
        return new VecInt(literals.stream().mapToInt(Integer::intValue).toArray());
    }
}
