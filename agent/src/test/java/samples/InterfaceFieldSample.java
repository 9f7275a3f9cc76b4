package samples;

/**
 * Two monitors held in static fields of an interface, read by simple name in two classes that
 * implement it (javac compiles the reads as getstatic Writer.LEDGER and getstatic Checker.LEDGER:
 * the qualifying type is the reading class). Writer takes LEDGER then AUDIT, Checker AUDIT then
 * LEDGER: an ABBA on two fields, one thread, no deadlock; it must be reported (README rule 1:
 * a lock read from a field is of class Owner.field, Owner the class declaring the field).
 */
public final class InterfaceFieldSample {
    interface Guards {
        Object LEDGER = new Object();
        Object AUDIT = new Object();
    }

    static final class Writer implements Guards {
        void post() {
            synchronized (LEDGER) {
                synchronized (AUDIT) {
                    System.out.println("ledger then audit");
                }
            }
        }
    }

    static final class Checker implements Guards {
        void check() {
            synchronized (AUDIT) {
                synchronized (LEDGER) {
                    System.out.println("audit then ledger");
                }
            }
        }
    }

    public static void main(String[] args) {
        new Writer().post();
        new Checker().check();
    }
}
