package org.workqueue4j.agent;

import java.util.Arrays;

/**
 * The table of instrumented sites, indexed by the constant the instrumented code passes to
 * {@link Hooks}. Sites are only added (a class that is unloaded leaves its sites behind: a few
 * dozen bytes per synchronized site of a class ever loaded, bounded by the code, not by the
 * number of lock objects).
 *
 * <p>Concurrency: {@link #register} runs in class-file transformers, possibly on several
 * threads, and is serialized by the class monitor. It writes the slot and then writes the
 * volatile {@code table} (release), so {@link #get} (on every instrumented lock operation: one
 * volatile read, an array load) sees the site whose number it got from code that was defined
 * after the registration. A slot is written once; growth copies into a new array.
 */
final class Sites {
    private static volatile Site[] table = new Site[256];
    private static int size;

    private Sites() {
    }

    /**
     * Adds a site.
     *
     * @param site the site
     * @return its number
     */
    static synchronized int register(Site site) {
        Site[] t = table;
        if (size == t.length) {
            t = Arrays.copyOf(t, t.length * 2);
        }
        t[size] = site;
        table = t; // volatile write after the slot write: publishes it
        return size++;
    }

    /**
     * Adds the sites of one class, numbered consecutively.
     *
     * @param sites the sites
     * @return the number of the first
     */
    static synchronized int registerAll(Site[] sites) {
        int first = size;
        for (Site s : sites) {
            register(s);
        }
        return first;
    }

    /**
     * Takes back the sites of a class that could not be written, if no site was added since
     * (their numbers are in no defined code, so they are reused); otherwise they stay unused.
     *
     * @param first the number returned by {@link #registerAll}
     * @param count how many were added
     */
    static synchronized void unregister(int first, int count) {
        if (count > 0 && first + count == size) {
            Site[] t = table;
            Arrays.fill(t, first, first + count, null);
            size = first;
            table = t; // volatile write: publishes the cleared slots (no code reads them)
        }
    }

    /**
     * Returns a site by number.
     *
     * @param id a number returned by {@link #register}
     * @return the site
     */
    static Site get(int id) {
        return table[id];
    }

    /** Returns the number of sites registered so far. */
    static synchronized int count() {
        return size;
    }
}
