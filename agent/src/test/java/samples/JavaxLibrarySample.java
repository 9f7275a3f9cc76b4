package samples;

import javax.demoapi.Registry;

/**
 * Uses a class-path library in a javax.* package that is not part of the JDK: Registry then
 * Listener, then Listener then Registry (one after the other, never deadlocking here).
 * Expected with the agent (include=javax.demoapi, or the default): a circular report.
 */
public final class JavaxLibrarySample {
    public static void main(String[] args) {
        Registry r = new Registry();
        r.register();
        System.out.println("poll " + r.listener().poll());
    }
}
