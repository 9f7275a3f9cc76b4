package org.workqueue4j.agent;

import java.lang.ref.WeakReference;
import java.lang.reflect.Field;

import org.workqueue4j.agent.annotation.LockClass;

/**
 * One instrumented lock site: a {@code monitorenter}, a synchronized method, a lock call or a
 * lock construction, with the field the lock was read from or stored into, if the bytecode
 * shows one. Sites are numbered when a class is transformed; the number is a constant in the
 * instrumented code and indexes {@link Sites}.
 */
final class Site {
    /** {@code Owner.method(File.java:line)}, for names of classes that have no field. */
    final String where;
    /** Owner of the field in internal form, or null when the lock does not come from a field. */
    final String fieldOwner;
    /** Field name, or null. */
    final String fieldName;
    private final WeakReference<ClassLoader> loader;

    /**
     * The lock-class name of a field site, resolved on first use (the field's {@link LockClass}
     * annotation needs the owner class loaded). Racy lazy init: every thread computes the same
     * string, so a plain field read/written without ordering is enough (String is immutable).
     */
    private String fieldClassName;

    /** The map of a field site, cached by {@link LockNames#ofField}; same racy-but-benign init. */
    org.workqueue4j.lockdep.LockMap map;

    Site(String where, String fieldOwner, String fieldName, ClassLoader loader) {
        this.where = where;
        this.fieldOwner = fieldOwner;
        this.fieldName = fieldName;
        this.loader = new WeakReference<>(loader);
    }

    /** Returns whether the lock at this site was read from or stored into a field. */
    boolean hasField() {
        return fieldName != null;
    }

    /**
     * Returns the lock-class name of a field site: the field's {@link LockClass} value, else
     * {@code Declaring.field}, named by the class that declares the field (binary name), not
     * the class the bytecode reads it through ({@code getfield Sub.f} for a field of
     * {@code Base}), so that every read of one field is one class.
     */
    String fieldClassName() {
        String n = fieldClassName;
        if (n == null) {
            n = resolved();
            fieldClassName = n;
        }
        return n;
    }

    private String resolved() {
        try {
            Class<?> owner = Class.forName(fieldOwner.replace('/', '.'), false, loader.get());
            Field f = declared(owner, fieldName);
            if (f != null) {
                LockClass a = f.getAnnotation(LockClass.class);
                return a != null ? a.value() : f.getDeclaringClass().getName() + "." + fieldName;
            }
        } catch (ClassNotFoundException | LinkageError | SecurityException e) {
            // The owner cannot be loaded from here: fall back to the default name.
        }
        return fieldOwner.replace('/', '.') + "." + fieldName;
    }

    /**
     * The field {@code name} that a reference through class {@code c} resolves to, in the JVM's
     * order (JVMS 5.4.3.2): a field {@code c} declares, else one of its direct superinterfaces
     * (each searched the same way, recursively), else its superclass's. The classes are those the
     * JVM loaded with {@code c} (this runs when the site's code runs, never inside the
     * transformer), so nothing is loaded here.
     *
     * @return the field, or null when none is found
     */
    private static Field declared(Class<?> c, String name) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (f.getName().equals(name)) {
                    return f;
                }
            }
            for (Class<?> i : k.getInterfaces()) {
                Field f = declared(i, name);
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return hasField() ? where + " [" + fieldOwner + "." + fieldName + "]" : where;
    }
}
