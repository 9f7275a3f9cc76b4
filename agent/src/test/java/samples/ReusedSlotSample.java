package samples;

import java.lang.reflect.Method;

/**
 * Calls the synchronized methods of {@code samples.gen.Reused}, a class whose bytecode reuses a
 * parameter's local slot for a value of another type once the parameter is dead, as bytecode
 * optimizers and shrinkers (ProGuard, R8) and other JVM compilers emit. The class is not in the
 * sources: the test writes its class file to a directory on the class path. Prints
 * "reused: f=3 g=4" or the error.
 */
public final class ReusedSlotSample {
    public static void main(String[] args) {
        try {
            Class<?> c = Class.forName("samples.gen.Reused");
            Method f = c.getMethod("f", String.class);
            Method g = c.getMethod("g", String.class);
            Object o = c.getConstructor().newInstance();
            System.out.println("reused: f=" + f.invoke(null, "abc") + " g=" + g.invoke(o, "abcd"));
        } catch (Throwable t) {
            System.out.println("reused: " + t);
        }
    }
}
