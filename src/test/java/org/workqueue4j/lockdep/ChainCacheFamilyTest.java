package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.workqueue4j.lockdep.Selftest.LockType.RLOCK;
import static org.workqueue4j.lockdep.Selftest.Verdict.FAILURE;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The chain key includes the read type: a cached L -> RL chain must not hide L -> WL. */
@DisplayName("chain cached mixed R-L/L-W ABBA")
class ChainCacheFamilyTest {

    @Test
    @DisplayName("a cached lock(B)->read(A) chain does not hide lock(B)->write(A)")
    void cachedReadChainDoesNotHideWrite() {
        SelftestSupport.assertVerdict("chain cached mixed R-L/L-W ABBA", RLOCK, FAILURE);
    }

    @Test
    @DisplayName("the second identical acquisition is a chain-cache hit")
    void repeatedChainIsAHit() {
        Lockdep lockdep = Lockdep.builder().quiet().build();
        LockMap a = new LockMap("a", new LockClassKey("A"));
        LockMap b = new LockMap("b", new LockClassKey("B"));
        for (int i = 0; i < 10; i++) {
            lockdep.acquire(a);
            lockdep.acquire(b);
            lockdep.release(b);
            lockdep.release(a);
        }
        LockdepStats s = lockdep.stats();
        assertThat(s.chainMisses()).isEqualTo(2);
        assertThat(s.chainHits()).isEqualTo(18);
        assertThat(s.chains()).isEqualTo(2);
        assertThat(s.edges()).isEqualTo(1);
        assertThat(s.classes()).isEqualTo(2);
    }
}
