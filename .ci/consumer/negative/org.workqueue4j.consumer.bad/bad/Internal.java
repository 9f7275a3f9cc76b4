package bad;

/** Must not compile on the module path: org.workqueue4j.internal is not exported. */
public final class Internal {
    private Internal() {
    }

    /** @return an engine type a user must not reach */
    public static Class<?> reach() {
        return org.workqueue4j.internal.WqRuntime.class;
    }
}
