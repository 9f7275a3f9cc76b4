package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The chain cache's backward-shift removal keeps every other key findable. */
class ChainCacheRemoveTest {

    @Test
    void randomAddsAndRemovesAgreeWithAHashSet() {
        ChainCache cache = new ChainCache();
        Set<Long> model = new HashSet<>();
        Random rnd = new Random(14);
        for (int step = 0; step < 200_000; step++) {
            long key = 1 + rnd.nextInt(3000) * 0x9E3779B97F4A7C15L; // clustered home slots too
            if (key == 0) {
                continue;
            }
            if (rnd.nextBoolean()) {
                cache.add(key);
                model.add(key);
            } else {
                assertThat(cache.remove(key)).isEqualTo(model.remove(key));
            }
        }
        assertThat(cache.size()).isEqualTo(model.size());
        for (long k : model) {
            assertThat(cache.contains(k)).isTrue();
        }
    }
}
