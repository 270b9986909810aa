package dev.kiln.image.format;

import dev.kiln.store.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Copies a stream into a compressor and reports the share of {@code size} fed so far as the phase's percent. */
final class Percent {

    private Percent() {
    }

    static void copy(InputStream in, OutputStream out, long size, Progress progress) throws IOException {
        byte[] buf = new byte[1 << 20];
        long fed = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
            fed += n;
            progress.bytes(n);
            progress.advance(size <= 0 ? 0 : Math.min(100, fed * 100 / size), "");
        }
    }
}
