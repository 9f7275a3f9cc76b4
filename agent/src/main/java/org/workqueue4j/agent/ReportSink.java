package org.workqueue4j.agent;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where the agent writes: standard error, or a file it appends to. One report is written as one
 * block by one {@code print} call, under the stream's own lock only, so reports of several
 * threads do not interleave, and a report made by a thread that already holds that lock (a
 * {@code toString()} called inside {@code System.err.printf}, say) re-enters it instead of
 * waiting for a lock of the agent's held by a thread that waits for the stream.
 */
final class ReportSink {
    private final PrintStream out;

    /**
     * Opens the sink.
     *
     * @param file the file to append to, or null for standard error
     * @throws IllegalArgumentException when the file cannot be opened, naming it
     */
    ReportSink(Path file) {
        if (file == null) {
            out = System.err;
        } else {
            try {
                out = new PrintStream(new FileOutputStream(file.toFile(), true), true, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException("workqueue4j-agent: cannot open report file " + file + ": " + e, e);
            }
        }
    }

    /** Writes one block of text and flushes (no lock of the sink's own: see the class comment). */
    void write(String text) {
        out.print(text + System.lineSeparator());
        out.flush();
    }
}
