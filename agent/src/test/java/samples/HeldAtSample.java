package samples;

/**
 * Lock classes n and m taken in both orders (a real ABBA, reported). Before the reversed order,
 * n is taken and released once alone at another line. The report must name, for the lock main
 * holds, the line where main took it (the line of the reversed order), not the line of an
 * earlier, finished acquisition.
 */
public final class HeldAtSample {
    private final Object m = new Object();
    private final Object n = new Object();

    public static void main(String[] args) {
        HeldAtSample s = new HeldAtSample();
        synchronized (s.m) {
            synchronized (s.n) {
                System.out.println("m then n");
            }
        }
        synchronized (s.n) { // line 20: n alone, released
            System.out.println("n alone");
        }
        synchronized (s.n) { // line 23: n held while m is taken
            synchronized (s.m) {
                System.out.println("n then m");
            }
        }
    }
}
