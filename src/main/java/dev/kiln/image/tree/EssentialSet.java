package dev.kiln.image.tree;

import dev.kiln.debian.Relation;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The part of a package set unpacked before dpkg runs: its Essential packages and everything they depend on. */
final class EssentialSet {

    private EssentialSet() {
    }

    /**
     * The Essential packages of the set (by their control files) and, through Pre-Depends and Depends, every package
     * of the set they need: of each group of alternatives, the first that a package of the set is or provides.
     */
    static List<String> closure(Map<String, Map<String, String>> controls) {
        Map<String, Set<String>> provides = new HashMap<>();
        controls.forEach((name, c) -> {
            provides.computeIfAbsent(name, k -> new LinkedHashSet<>()).add(name);
            for (List<Relation> group : Relation.parseField(c.getOrDefault("Provides", ""))) {
                for (Relation r : group) {
                    provides.computeIfAbsent(r.name(), k -> new LinkedHashSet<>()).add(name);
                }
            }
        });
        Set<String> closure = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        controls.keySet().stream().sorted().filter(n -> "yes".equals(controls.get(n).get("Essential"))).forEach(todo::add);
        while (!todo.isEmpty()) {
            String name = todo.poll();
            if (!closure.add(name)) {
                continue;
            }
            Map<String, String> c = controls.get(name);
            List<List<Relation>> needs = new ArrayList<>(Relation.parseField(c.getOrDefault("Pre-Depends", "")));
            needs.addAll(Relation.parseField(c.getOrDefault("Depends", "")));
            for (List<Relation> group : needs) {
                for (Relation alt : group) {
                    Set<String> found = provides.get(alt.name());
                    if (found != null && !found.isEmpty()) {
                        todo.addAll(found);
                        break;
                    }
                }
            }
        }
        return new ArrayList<>(closure);
    }
}
