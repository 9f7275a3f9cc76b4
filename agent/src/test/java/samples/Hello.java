package samples;

/** Prints one line: the program the agent's start-up cost is measured on. */
public final class Hello {
    public static void main(String[] args) {
        System.out.println("hello");
    }
}
