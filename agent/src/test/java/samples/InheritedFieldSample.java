package samples;

/**
 * One monitor, read from one field ({@code Base.guard}), taken in both orders against a
 * Journal, one thread, one after the other (never deadlocks here; with two threads it can).
 * The second order reads the inherited field from a subclass method, so javac emits
 * {@code getfield InheritedFieldSample$Derived.guard}. Verdict expected with the agent: a
 * circular dependency between the field's class and the Journal.
 */
public final class InheritedFieldSample {

    static class Base {
        protected final Object guard = new Object();

        void guardThenJournal(Journal j) {
            synchronized (guard) {
                synchronized (j) {
                    j.entries++;
                }
            }
        }
    }

    static final class Derived extends Base {
        void journalThenGuard(Journal j) {
            synchronized (j) {
                synchronized (guard) {
                    j.entries++;
                }
            }
        }
    }

    static final class Journal {
        int entries;
    }

    public static void main(String[] args) {
        Derived d = new Derived();
        Journal j = new Journal();
        d.guardThenJournal(j);
        d.journalThenGuard(j);
        System.out.println("done, entries " + j.entries);
    }
}
