package org.workqueue4j;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Every test class's Awaitility waits check their condition at once and then every 10 ms,
 * instead of Awaitility's first check after 100 ms and every 100 ms after it: about 200 waits
 * in the suite, most of them for a state that holds within a millisecond, each paid 100 ms or
 * more per run. Registered for the whole suite through {@code META-INF/services} (Jupiter's
 * extension auto-detection, enabled in {@code junit-platform.properties}). A wait that sets its
 * own poll interval or delay keeps it.
 */
public final class AwaitilityDefaults implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultPollInterval(Duration.ofMillis(10));
    }
}
