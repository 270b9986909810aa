package dev.kiln.kickstart;

import java.util.ArrayList;
import java.util.List;

/**
 * A kickstart file as Kiln uses it: commands (one per line), the {@code %packages} list and {@code %post}
 * scripts. Templates are written in this form, and {@code final-kickstart.ks}, the build's plan, is too.
 *
 * @param commands command lines in order (comments and blank lines dropped)
 * @param packages package names (templates) or exact {@code name=version} pins (final kickstart)
 * @param posts    the bodies of {@code %post} sections, in order
 */
public record Kickstart(List<String> commands, List<String> packages, List<String> posts) {

    public static Kickstart parse(String text) {
        List<String> commands = new ArrayList<>();
        List<String> packages = new ArrayList<>();
        List<String> posts = new ArrayList<>();
        String section = null;
        StringBuilder post = null;
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (section == null) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("%packages")) {
                    section = "packages";
                } else if (line.startsWith("%post")) {
                    section = "post";
                    post = new StringBuilder();
                } else if (line.startsWith("%")) {
                    section = "other";
                } else {
                    commands.add(line);
                }
            } else if (line.equals("%end")) {
                if ("post".equals(section)) {
                    posts.add(post.toString());
                }
                section = null;
            } else if ("packages".equals(section)) {
                if (!line.isEmpty() && !line.startsWith("#")) {
                    packages.add(line);
                }
            } else if ("post".equals(section)) {
                post.append(raw).append('\n');
            }
        }
        if (section != null) {
            throw new IllegalArgumentException("kickstart section %" + section + " has no %end");
        }
        return new Kickstart(List.copyOf(commands), List.copyOf(packages), List.copyOf(posts));
    }

    /** The first command with this name (e.g. {@code bootloader}), or null. */
    public String command(String name) {
        return commands.stream().filter(c -> c.equals(name) || c.startsWith(name + " ")).findFirst().orElse(null);
    }
}
