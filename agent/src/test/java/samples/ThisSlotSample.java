package samples;

import java.lang.reflect.Method;

/**
 * Calls the synchronized method {@code h} of {@code samples.gen.ThisSlot} (written by the test:
 * its bytecode reuses the slot of {@code this} once it is dead), then says whether main still
 * holds the receiver's monitor. Expected: "this-slot: h=7, holds receiver after: false".
 */
public final class ThisSlotSample {
    public static void main(String[] args) {
        Object o = null;
        String result;
        try {
            Class<?> c = Class.forName("samples.gen.ThisSlot");
            Method h = c.getMethod("h", c);
            o = c.getConstructor().newInstance();
            Object other = c.getConstructor().newInstance();
            result = "h=" + h.invoke(o, other);
        } catch (Throwable t) {
            Throwable cause = t instanceof java.lang.reflect.InvocationTargetException ? t.getCause() : t;
            result = "h threw " + cause;
        }
        System.out.println("this-slot: " + result + ", holds receiver after: " + (o != null && Thread.holdsLock(o)));
    }
}
