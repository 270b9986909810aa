package dev.kiln.source;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.bcpg.ArmoredInputStream;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.jcajce.JcaPGPObjectFactory;
import org.bouncycastle.openpgp.jcajce.JcaPGPPublicKeyRingCollection;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentVerifierBuilderProvider;

/**
 * Checks repository signatures with Bouncy Castle (no gpg process): a clear-signed {@code InRelease}, or a
 * {@code Release} with its detached {@code Release.gpg}, against the keys of the source's keyrings.
 */
public final class OpenPgpVerifier {

    private final List<PGPPublicKey> keys;

    private OpenPgpVerifier(List<PGPPublicKey> keys) {
        this.keys = keys;
    }

    /** Loads every public key of the given keyrings (binary or ASCII-armored, several keys per file). */
    public static OpenPgpVerifier fromKeyrings(List<byte[]> keyrings) {
        List<PGPPublicKey> keys = new ArrayList<>();
        for (byte[] ring : keyrings) {
            try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(ring))) {
                for (PGPPublicKeyRing r : new JcaPGPPublicKeyRingCollection(in)) {
                    r.getPublicKeys().forEachRemaining(keys::add);
                }
            } catch (IOException | PGPException e) {
                throw new SourceException("unreadable keyring: " + e.getMessage(), e);
            }
        }
        return new OpenPgpVerifier(keys);
    }


    /** How many public keys (primary and sub-keys) were read. */
    public int keyCount() {
        return keys.size();
    }

    /** Verifies a clear-signed document and returns the signed text (what apt would use). */
    public byte[] verifyClearSigned(byte[] document) {
        try (ArmoredInputStream in = ArmoredInputStream.builder().build(new ByteArrayInputStream(document))) {
            if (!in.isClearText()) {
                throw new SourceException("not a clear-signed document");
            }
            List<byte[]> lines = new ArrayList<>();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int lookAhead = readLine(line, -1, in);
            lines.add(line.toByteArray());
            while (lookAhead != -1 && in.isClearText()) {
                lookAhead = readLine(line, lookAhead, in);
                lines.add(line.toByteArray());
            }
            ByteArrayOutputStream signed = new ByteArrayOutputStream();
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            for (int i = 0; i < lines.size(); i++) {
                byte[] l = lines.get(i);
                int len = contentLength(l);
                signed.write(l, 0, len);
                text.write(l, 0, len);
                text.write('\n');
                if (i < lines.size() - 1) {
                    signed.write('\r');
                    signed.write('\n');
                }
            }
            PGPSignatureList signatures = signatures(in);
            check(signatures, signed.toByteArray());
            return text.toByteArray();
        } catch (IOException e) {
            throw new SourceException("malformed signed document: " + e.getMessage(), e);
        }
    }

    /** Verifies a detached signature (binary or armored) over {@code data}. */
    public void verifyDetached(byte[] data, byte[] signature) {
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(signature))) {
            check(signatures(in), data);
        } catch (IOException e) {
            throw new SourceException("malformed signature: " + e.getMessage(), e);
        }
    }

    private static PGPSignatureList signatures(InputStream in) throws IOException {
        Object o = new JcaPGPObjectFactory(in).nextObject();
        if (!(o instanceof PGPSignatureList list) || list.isEmpty()) {
            throw new SourceException("no signature found");
        }
        return list;
    }

    /** At least one signature must come from a known key and be good; a bad one from a known key fails it all. */
    private void check(PGPSignatureList signatures, byte[] data) {
        List<String> unknown = new ArrayList<>();
        boolean good = false;
        for (PGPSignature sig : signatures) {
            PGPPublicKey key = keys.stream().filter(k -> k.getKeyID() == sig.getKeyID()).findFirst().orElse(null);
            if (key == null) {
                unknown.add(String.format("%016X", sig.getKeyID()));
                continue;
            }
            try {
                sig.init(new JcaPGPContentVerifierBuilderProvider(), key);
                if (sig.getSignatureType() == PGPSignature.CANONICAL_TEXT_DOCUMENT
                        || sig.getSignatureType() == PGPSignature.BINARY_DOCUMENT) {
                    sig.update(data);
                }
                if (!sig.verify()) {
                    throw new SourceException(String.format("bad signature by key %016X", sig.getKeyID()));
                }
                good = true;
            } catch (PGPException e) {
                throw new SourceException("cannot check the signature: " + e.getMessage(), e);
            }
        }
        if (!good) {
            throw new SourceException("signed by unknown key(s) " + String.join(", ", unknown)
                    + "; none is in the source's keyrings");
        }
    }

    private static int readLine(ByteArrayOutputStream out, int lookAhead, InputStream in) throws IOException {
        out.reset();
        int ch = lookAhead;
        if (ch == -1) {
            ch = in.read();
        }
        while (ch >= 0) {
            out.write(ch);
            if (ch == '\r' || ch == '\n') {
                int next = in.read();
                if (ch == '\r' && next == '\n') {
                    out.write(next);
                    return in.read();
                }
                return next;
            }
            ch = in.read();
        }
        return -1;
    }

    /** Length without the line ending and trailing blanks (RFC 4880 §7.1 canonical text). */
    private static int contentLength(byte[] line) {
        int end = line.length;
        while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '
                || line[end - 1] == '\t')) {
            end--;
        }
        return end;
    }
}
