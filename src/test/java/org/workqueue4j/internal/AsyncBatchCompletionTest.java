package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

/**
 * The flushAsync() futures a finished flush completes as one batch ({@code FlushColors.Flusher}
 * run on a completing thread or the hand-off thread) are all completed, also when completing one
 * of them throws out of {@code CompletableFuture.complete}: a {@code StackOverflowError} in a
 * deep chain of dependents does, once the future's result is set (found by a probe that flushed
 * at the bottom of a deep recursion: 3 of 487 depths under {@code -Xint} lost 2 of 3 futures).
 * Such a future is modelled here by one whose {@code complete} throws after completing. Before:
 * the records after it were dropped, their futures never completed.
 */
class AsyncBatchCompletionTest {
    static final class DependentsOverflowed extends Error {
        DependentsOverflowed() {
            super("a dependent chain overflowed the stack");
        }
    }

    /** Completes, then throws, as a future whose dependents overflowed the stack. */
    static final class ThrowingFuture extends CompletableFuture<Void> {
        @Override
        public boolean complete(Void value) {
            super.complete(value);
            throw new DependentsOverflowed();
        }
    }

    @Test
    void everyFutureOfTheBatchCompletesWhenOneCompletionThrows() throws Exception {
        Class<?> flusher = Class.forName("org.workqueue4j.internal.FlushColors$Flusher");
        Constructor<?> make = flusher.getDeclaredConstructor(CompletableFuture.class);
        make.setAccessible(true);
        Field next = flusher.getDeclaredField("next");
        next.setAccessible(true);
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        Object head = null;
        Object tail = null;
        for (int i = 0; i < 5; i++) {
            CompletableFuture<Void> f = i == 1 || i == 3 ? new ThrowingFuture() : new CompletableFuture<>();
            futures.add(f);
            Object record = make.newInstance(f);
            if (head == null) {
                head = record;
            } else {
                next.set(tail, record);
            }
            tail = record;
        }
        Runnable batch = (Runnable) head;
        assertThatThrownBy(batch::run).as("the first throw, once the batch is done").isInstanceOf(DependentsOverflowed.class);
        assertThat(futures).allSatisfy(f -> assertThat(f).isCompleted());
    }
}
