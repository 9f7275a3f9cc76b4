package samples;

import java.io.InputStream;
import java.lang.reflect.Method;

/**
 * Loads {@link LegacyCounter}'s class file with its major version lowered to the one given
 * (48 = Java 1.4, as old libraries still on class paths were compiled) in a class loader of its
 * own that delegates to the application loader, and calls its synchronized methods.
 * Prints "legacy VERSION: next=1 bump=1" or the error.
 */
public final class OldClassFileSample {

    static final class OneClassLoader extends ClassLoader {
        OneClassLoader(ClassLoader parent) {
            super(parent);
        }

        Class<?> define(String name, byte[] b) {
            return defineClass(name, b, 0, b.length);
        }
    }

    public static void main(String[] args) throws Exception {
        int major = Integer.parseInt(args[0]);
        byte[] b;
        try (InputStream in = OldClassFileSample.class.getResourceAsStream("LegacyCounter.class")) {
            b = in.readAllBytes();
        }
        b[6] = (byte) (major >>> 8);
        b[7] = (byte) major;
        try {
            Class<?> c = new OneClassLoader(OldClassFileSample.class.getClassLoader()).define("samples.LegacyCounter", b);
            Method next = c.getMethod("next");
            Object counter = c.getConstructor().newInstance();
            Method bump = c.getMethod("bump");
            System.out.println("legacy " + major + ": next=" + next.invoke(null) + " bump=" + bump.invoke(counter));
        } catch (Throwable t) {
            System.out.println("legacy " + major + ": " + t);
        }
    }
}
