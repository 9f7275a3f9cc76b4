/**
 * Annotations a program may put on its lock fields to merge or split the lock classes the
 * workqueue4j agent assigns. Shipped in the agent jar; a program that uses them compiles against
 * the agent jar (or a copy of this package) and runs unchanged without the agent.
 */
package org.workqueue4j.agent.annotation;
