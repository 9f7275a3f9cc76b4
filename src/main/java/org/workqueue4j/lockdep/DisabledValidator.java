package org.workqueue4j.lockdep;

/** The no-op validator returned by {@link LockDependencyValidator#disabled()}. */
enum DisabledValidator implements LockDependencyValidator {
    INSTANCE;

    @Override
    public boolean isEnabled() {
        return false;
    }

    @Override
    public void acquire(LockMap map, AcquireMode mode, boolean trylock) {
    }

    @Override
    public void release(LockMap map) {
    }

    @Override
    public void touch(LockMap map) {
    }

    @Override
    public void initialize(LockMap map) {
    }

    @Override
    public boolean isHeld(LockMap map) {
        return false;
    }

    @Override
    public String toString() {
        return "LockDependencyValidator.disabled()";
    }
}
