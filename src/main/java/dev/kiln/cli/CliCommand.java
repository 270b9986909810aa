package dev.kiln.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A leaf command of the {@code kiln} CLI: runs with a session to the server; a failure already reported exits 1. */
abstract class CliCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    KilnCli cli() {
        return (KilnCli) spec.root().userObject();
    }

    abstract int run(Session s) throws IOException, InterruptedException;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Session session = cli().session();
        try {
            return run(session);
        } catch (Session.Failed e) {
            return 1;
        } finally {
            session.printJson();
        }
    }
}
