package dev.kiln;

import dev.kiln.cli.KilnCli;
import dev.kiln.worker.RemoteWorker;
import java.util.Arrays;

/**
 * Entry point of the one jar: {@code cli worker ...} (or {@code worker ...}) runs a remote build worker, {@code cli
 * ...} the command line client, anything else starts the service.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length > 1 && args[0].equals("cli") && args[1].equals("worker")) {
            System.exit(RemoteWorker.run(Arrays.copyOfRange(args, 2, args.length)));
        }
        if (args.length > 0 && args[0].equals("worker")) {
            System.exit(RemoteWorker.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        if (args.length > 0 && args[0].equals("cli")) {
            System.exit(KilnCli.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        KilnApplication.start(args);
    }
}
