package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Help everywhere, as composer-cli users type it: {@code -h}/{@code --help} on every command, and {@code help CMD}. */
class KilnCliHelpTest {

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = KilnCli.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Path.of("."), args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Every command path of the CLI ("compose start", "blueprints push", …), from its own definition. */
    static List<List<String>> commands(CommandLine cli, List<String> prefix) {
        List<List<String>> all = new ArrayList<>();
        cli.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandName().equals(name) && !name.equals("help")) {
                List<String> path = new ArrayList<>(prefix);
                path.add(name);
                all.add(path);
                all.addAll(commands(sub, path));
            }
        });
        return all;
    }

    @Test
    void everyCommandTakesDashHAndDashDashHelpAndHelpNamesIt() {
        List<List<String>> commands = commands(new CommandLine(new KilnCli(System.out, System.err, Path.of("."))),
                List.of());
        assertThat(commands).hasSizeGreaterThan(30).contains(List.of("compose", "start"), List.of("blueprints", "push"));
        for (List<String> c : commands) {
            String usage = "Usage: kiln " + String.join(" ", c);
            for (String flag : new String[] {"-h", "--help"}) {
                List<String> args = new ArrayList<>(c);
                args.add(flag);
                Run r = run(args.toArray(String[]::new));
                assertThat(r.exit()).as(String.join(" ", args) + ": " + r.err()).isZero();
                assertThat(r.out()).as(String.join(" ", args)).startsWith(usage);
            }
            List<String> help = new ArrayList<>(List.of("help"));
            help.add(c.get(0));
            Run r = run(help.toArray(String[]::new));
            assertThat(r.exit()).as(String.join(" ", help)).isZero();
            assertThat(r.out()).startsWith("Usage: kiln " + c.get(0));
        }
        assertThat(run("--help").out()).startsWith("Usage: kiln").contains("help", "compose", "blueprints");
        assertThat(run("help").exit()).isZero();
    }

    @Test
    void aMissingSubcommandOrAWrongOptionStillFailsWithUsage() {
        Run r = run("compose");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("Missing required subcommand").contains("Usage: kiln compose");
        assertThat(run("compose", "start", "--no-such-option").exit()).isEqualTo(1);
    }
}
