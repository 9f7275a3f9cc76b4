package samples.excluded;

import java.util.concurrent.locks.ReentrantLock;

/** A lock factory in a package the agent's options exclude (a library the application uses). */
public final class LockFactory {
    private LockFactory() {
    }

    public static ReentrantLock newLock() {
        return new ReentrantLock();
    }
}
