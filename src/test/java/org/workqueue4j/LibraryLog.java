package org.workqueue4j;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A handler on the library's {@code org.workqueue4j} logger until closed, with the console
 * handlers turned off meanwhile (the expected stack traces stay out of the build log):
 * {@link #recording()} keeps every record, {@link #failing()} throws on every record (a logging
 * back end that is down). Closing restores the logger as it was.
 */
final class LibraryLog implements AutoCloseable {
    /** The records kept (none when failing). */
    final List<LogRecord> records = new CopyOnWriteArrayList<>();
    /** Records handed to the handler, kept or refused. */
    final AtomicInteger calls = new AtomicInteger();
    private final Logger jul = Logger.getLogger("org.workqueue4j");
    private final boolean parentHandlers;
    private final Handler handler;

    static LibraryLog recording() {
        return new LibraryLog(false);
    }

    static LibraryLog failing() {
        return new LibraryLog(true);
    }

    private LibraryLog(boolean fail) {
        handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                calls.incrementAndGet();
                if (fail) {
                    throw new IllegalStateException("log back end down");
                }
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        parentHandlers = jul.getUseParentHandlers();
        jul.setUseParentHandlers(false);
        jul.addHandler(handler);
    }

    /** {@return true if a record's message contains {@code text}} */
    boolean mentions(String text) {
        return records.stream().anyMatch(r -> r.getMessage() != null && r.getMessage().contains(text));
    }

    @Override
    public void close() {
        jul.removeHandler(handler);
        jul.setUseParentHandlers(parentHandlers);
    }
}
