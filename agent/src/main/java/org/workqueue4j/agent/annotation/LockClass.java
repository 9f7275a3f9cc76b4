package org.workqueue4j.agent.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the lock class of the locks held in a field, for the workqueue4j agent.
 *
 * <p>By default the agent gives a lock read from a field the class {@code Owner.field}, so two
 * fields are two classes. Give several fields the same name to <em>merge</em> them into one
 * class (the validator then treats holding one while taking another as recursive locking), or
 * give one field a name of its own to <em>split</em> it from a class it would otherwise share.
 * Put on a type, it names the class of every monitor whose runtime class is that type and that
 * is not read from a field (for example {@code synchronized} methods of the type).
 *
 * <p>The annotation is read by reflection the first time a site is used; it has no effect when
 * the program runs without the agent.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.TYPE})
public @interface LockClass {
    /**
     * Returns the lock class name used in reports.
     *
     * @return the lock class name; not empty
     */
    String value();
}
