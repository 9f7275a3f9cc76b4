package samples;

/**
 * Three classes whose synchronized methods call each other in a ring, each link on its own
 * thread, one after the other (no deadlock here). The last link's class is loaded only after
 * the first two links ran. Expected with the agent: a circular report through the three classes.
 */
public final class CycleSample {
    static final class Alpha {
        synchronized void toBeta(Beta b) {
            b.touch();
        }

        synchronized void touch() {
        }
    }

    static final class Beta {
        synchronized void toGamma(Object g) throws Exception {
            g.getClass().getDeclaredMethod("touch").invoke(g);
        }

        synchronized void touch() {
        }
    }

    public static void main(String[] args) throws Exception {
        Alpha a = new Alpha();
        Beta b = new Beta();
        Thread t1 = new Thread(() -> a.toBeta(b));
        t1.start();
        t1.join();
        Class<?> gammaType = Class.forName("samples.CycleGamma");
        Object g = gammaType.getConstructor().newInstance();
        Thread t2 = new Thread(() -> {
            try {
                b.toGamma(g);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t2.start();
        t2.join();
        Thread t3 = new Thread(() -> ((CycleGamma) g).toAlpha(a));
        t3.start();
        t3.join();
        System.out.println("done");
    }
}

final class CycleGamma {
    public CycleGamma() {
    }

    public synchronized void touch() {
    }

    synchronized void toAlpha(CycleSample.Alpha a) {
        a.touch();
    }
}
