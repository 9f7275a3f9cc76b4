package org.workqueue4j.demo;

import java.util.Objects;

import org.workqueue4j.LazyQueueHolder;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * A superblock-like owner (the kernel's {@code struct super_block}) that lazily creates its
 * direct-I/O completion queue, {@code dio/<id>}, the way {@code sb_init_dio_done_wq()} does.
 * Inodes carry a validated lock; a direct-I/O completion takes its inode's lock, and callers
 * start direct I/O (and so may create the queue) while holding that lock.
 */
public final class SuperBlock {
    /** Lock class of every inode lock (kernel: i_rwsem's class, shared by all inodes of a type). */
    public static final LockClassKey INODE_LOCK = new LockClassKey("&sb->s_type->i_mutex_key");
    /**
     * Lock class shared by every dio queue: the per-allocation-site class of kernels before
     * 5.1, the sharing that made the 2020 report possible.
     */
    public static final LockClassKey DIO_QUEUE_CLASS = new LockClassKey("(wq_completion)dio/%s");
    /** Lock class of the completion work (one INIT_WORK site). */
    public static final LockClassKey DIO_COMPLETE = new LockClassKey("(work_completion)&dio->complete_work");

    private final String id;
    private final WorkQueues runtime;
    private final LazyQueueHolder dioQueue;

    /**
     * @param id           the device name, as in {@code dio/sda}
     * @param runtime      where the queue lives (its validator sees the annotations)
     * @param strategy     how racing first users are resolved
     * @param creationHook runs inside the queue factory (lets a demo or test make both racers
     *                     allocate before either publishes); may be a no-op
     */
    public SuperBlock(String id, WorkQueues runtime, LazyQueueHolder.Strategy strategy, Runnable creationHook) {
        this.id = Objects.requireNonNull(id, "id");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.dioQueue = new LazyQueueHolder(strategy, () -> {
            creationHook.run();
            return runtime.queueBuilder("dio/" + id).memReclaim().lockClass(DIO_QUEUE_CLASS).build();
        });
    }

    /** An inode of this superblock with its own lock (of the shared inode class). */
    public Inode newInode(String name) {
        return new Inode(name, new ValidatedLock(id + ":" + name + "->i_rwsem", INODE_LOCK, runtime.validator()));
    }

    /** The lazily created queue (kernel sb_init_dio_done_wq). */
    public WorkQueue dioQueue() {
        return dioQueue.get();
    }

    public LazyQueueHolder dioHolder() {
        return dioQueue;
    }

    /**
     * Submits a direct I/O on {@code inode} with its lock held, as the iomap path does, and
     * defers the completion to the dio queue; the completion takes the inode lock.
     *
     * @return the completion item (flush it to wait for the I/O)
     */
    public Work directIo(Inode inode) {
        Work completion = new Work("dio_complete:" + inode.name(), DIO_COMPLETE, () -> {
            inode.lock().lock();
            try {
                inode.completedIo();
            } finally {
                inode.lock().unlock();
            }
        });
        inode.lock().lock();
        try {
            dioQueue().queue(completion);
        } finally {
            inode.lock().unlock();
        }
        return completion;
    }

    /** Creates the dio queue (if nobody has yet) while holding {@code inode}'s lock. */
    public WorkQueue initDioQueueUnder(Inode inode) {
        inode.lock().lock();
        try {
            return dioQueue();
        } finally {
            inode.lock().unlock();
        }
    }

    public String id() {
        return id;
    }

    /** Destroys the dio queue if it exists. */
    public void shutdown() {
        dioQueue.destroy();
    }

    /** An inode: a name, a validated lock, a completion counter. */
    public static final class Inode {
        private final String name;
        private final ValidatedLock lock;
        private long completed;

        Inode(String name, ValidatedLock lock) {
            this.name = name;
            this.lock = lock;
        }

        public String name() {
            return name;
        }

        public ValidatedLock lock() {
            return lock;
        }

        /** Called with the lock held. */
        void completedIo() {
            completed++;
        }

        /** I/Os completed (read with the lock held, or after a flush). */
        public long completed() {
            lock.lock();
            try {
                return completed;
            } finally {
                lock.unlock();
            }
        }
    }
}
