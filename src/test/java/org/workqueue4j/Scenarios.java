package org.workqueue4j;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import kotlin.Unit;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.CustomScenarioDSLKt;
import org.jetbrains.lincheck.datastructures.DSLThreadScenario;

/**
 * Hand-written Lincheck scenarios for a model-checking test class: operations are written
 * {@code "name"} or {@code "name:arg"} (one int argument), e.g. {@code "setMaxActive:2"}. The
 * model checker still explores every interleaving of the parallel part; only the operations are
 * fixed instead of random.
 */
final class Scenarios {
    private Scenarios() {
    }

    static ExecutionScenario of(Class<?> test, String[] initial, String[][] parallel, String[] post) {
        return CustomScenarioDSLKt.scenario(b -> {
            b.initial(t -> add(test, t, initial));
            b.parallel(p -> {
                for (String[] thread : parallel) {
                    p.thread(t -> add(test, t, thread));
                }
                return Unit.INSTANCE;
            });
            b.post(t -> add(test, t, post));
            return Unit.INSTANCE;
        });
    }

    private static Unit add(Class<?> test, DSLThreadScenario t, String[] ops) {
        for (String op : ops) {
            String[] parts = op.split(":");
            List<Object> args = new ArrayList<>();
            Method m = Arrays.stream(test.getMethods())
                    .filter(x -> x.getName().equals(parts[0]) && x.getParameterCount() == parts.length - 1)
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("no operation " + op + " in " + test));
            if (parts.length > 1) {
                args.add(Integer.parseInt(parts[1]));
            }
            t.add(new Actor(m, args, false, false, false, false, false));
        }
        return Unit.INSTANCE;
    }

    static String[] ops(String... ops) {
        return ops;
    }
}
