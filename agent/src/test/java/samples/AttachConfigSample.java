package samples;

import org.workqueue4j.WorkQueuesConfig;

/**
 * A late attach to an application that already uses the library: WorkQueuesConfig is loaded
 * (a config is built) before the agent attaches, then {@link BuiltConfigSample}'s deadlock runs
 * on a runtime built after the attach. Verdict with policy=THROW: the second flush() throws
 * PotentialDeadlockException before blocking (the agent's validator is that runtime's). A
 * daemon thread ends the process with status 3 if the second flush blocks instead (the
 * deadlock is real: the item waits for the monitor its flusher holds).
 * Arguments: the agent jar and its option string. Needs {@code -Djdk.attach.allowAttachSelf=true}.
 */
public final class AttachConfigSample {
    public static void main(String[] args) throws Exception {
        WorkQueuesConfig early = WorkQueuesConfig.builder().name("before-attach").build();
        System.out.println("config loaded before the attach: " + early.name());
        AttachSample.attachSelf(args);
        System.out.println("attached");
        Thread breaker = new Thread(() -> {
            try {
                Thread.sleep(20_000);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("deadlocked: the second flush blocked (no validator on the runtime built after the attach)");
            Runtime.getRuntime().halt(3);
        }, "deadlock-breaker");
        breaker.setDaemon(true);
        breaker.start();
        BuiltConfigSample.main(new String[0]);
    }
}
