package dev.kiln.blueprint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The difference of two blueprints in lorax's order: Name, Description, Version; then modules, packages and groups
 * (added, removed, changed, each sorted by name); then each customization; then {@code repos.git}. An entry is
 * {@code {"old": {<key>: value} | null, "new": {<key>: value} | null}}.
 */
public final class BlueprintDiff {

    private BlueprintDiff() {
    }

    public static List<Map<String, Object>> diff(Blueprint oldBp, Blueprint newBp) {
        List<Map<String, Object>> diffs = new ArrayList<>();
        for (String field : List.of("name", "description", "version")) {
            Object o = oldBp.data().get(field);
            Object n = newBp.data().get(field);
            if (!Objects.equals(o, n)) {
                String title = Character.toUpperCase(field.charAt(0)) + field.substring(1);
                diffs.add(entry(Map.of(title, String.valueOf(o)), Map.of(title, String.valueOf(n))));
            }
        }
        diffs.addAll(items("Module", oldBp.modules(), newBp.modules(), "name"));
        diffs.addAll(items("Package", oldBp.packages(), newBp.packages(), "name"));
        diffs.addAll(items("Group", oldBp.groups(), newBp.groups(), "name"));
        Map<String, Object> oc = oldBp.customizations();
        Map<String, Object> nc = newBp.customizations();
        for (String key : union(oc.keySet(), nc.keySet())) {
            String title = "Customizations." + key;
            Object o = oc.get(key);
            Object n = nc.get(key);
            String itemKey = key.equals("sshkey") ? "user" : "name";
            if (Objects.equals(o, n)) {
                continue;
            }
            if (isKeyedList(o, itemKey) && isKeyedList(n, itemKey)) {
                diffs.addAll(items(title, cast(o), cast(n), itemKey));
            } else {
                diffs.add(entry(o == null ? null : single(title, o), n == null ? null : single(title, n)));
            }
        }
        diffs.addAll(items("Repos.git", gitRepos(oldBp), gitRepos(newBp), "rpmname"));
        return diffs;
    }

    private static List<Map<String, Object>> items(String title, List<Map<String, Object>> oldItems,
            List<Map<String, Object>> newItems, String key) {
        Map<String, Map<String, Object>> o = byKey(oldItems, key);
        Map<String, Map<String, Object>> n = byKey(newItems, key);
        Comparator<String> order = Comparator.comparing(s -> s.toLowerCase(Locale.ROOT));
        List<Map<String, Object>> added = new ArrayList<>();
        List<Map<String, Object>> removed = new ArrayList<>();
        List<Map<String, Object>> changed = new ArrayList<>();
        for (String k : n.keySet().stream().sorted(order).toList()) {
            if (!o.containsKey(k)) {
                added.add(entry(null, single(title, n.get(k))));
            } else if (!o.get(k).equals(n.get(k))) {
                changed.add(entry(single(title, o.get(k)), single(title, n.get(k))));
            }
        }
        for (String k : o.keySet().stream().sorted(order).toList()) {
            if (!n.containsKey(k)) {
                removed.add(entry(single(title, o.get(k)), null));
            }
        }
        List<Map<String, Object>> all = new ArrayList<>(added);
        all.addAll(removed);
        all.addAll(changed);
        return all;
    }

    private static Map<String, Map<String, Object>> byKey(List<Map<String, Object>> items, String key) {
        Map<String, Map<String, Object>> map = new LinkedHashMap<>();
        for (Map<String, Object> item : items) {
            map.put(String.valueOf(item.get(key)), item);
        }
        return map;
    }

    private static boolean isKeyedList(Object value, String key) {
        return value instanceof List<?> list
                && list.stream().allMatch(i -> i instanceof Map<?, ?> m && m.containsKey(key));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> gitRepos(Blueprint bp) {
        if (bp.data().get("repos") instanceof Map<?, ?> repos && isKeyedList(repos.get("git"), "rpmname")) {
            return (List<Map<String, Object>>) repos.get("git");
        }
        return List.of();
    }

    private static Map<String, Object> entry(Map<String, Object> o, Map<String, Object> n) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("old", o);
        e.put("new", n);
        return e;
    }

    private static Map<String, Object> single(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(key, value);
        return m;
    }

    private static TreeSet<String> union(Set<String> a, Set<String> b) {
        TreeSet<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> cast(Object list) {
        return (List<Map<String, Object>>) list;
    }
}
