package dev.kiln;

import dev.kiln.cli.KilnCli;
import java.util.Arrays;

/** Entry point of the one jar: {@code cli ...} runs the command line client, anything else starts the service. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("cli")) {
            System.exit(KilnCli.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        KilnApplication.start(args);
    }
}
