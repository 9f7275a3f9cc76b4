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
            for (Class<?> c = owner; c != null; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (f.getName().equals(fieldName)) {
                        LockClass a = f.getAnnotation(LockClass.class);
                        return a != null ? a.value() : c.getName() + "." + fieldName;
                    }
                }
            }
        } catch (ClassNotFoundException | LinkageError | SecurityException e) {
            // The owner cannot be loaded from here: fall back to the default name.
        }
        return fieldOwner.replace('/', '.') + "." + fieldName;
    }

    @Override
    public String toString() {
        return hasField() ? where + " [" + fieldOwner + "." + fieldName + "]" : where;
    }
}
