package org.workqueue4j.internal;

import java.util.function.Consumer;

/**
 * An intrusive doubly-linked list of {@link WorkNode}s (kernel {@code list_head}): adding and
 * removing allocate nothing. Not thread-safe: every list is guarded by its pool's lock.
 */
final class WorkList {
    // Package-private for PoolWorkqueue.takeInbox only, whose landing loop must make no call
    // between taking the inbox and linking every node (an Error there would lose nodes).
    WorkNode head;
    WorkNode tail;
    int size;

    boolean isEmpty() {
        return head == null;
    }

    int size() {
        return size;
    }

    WorkNode first() {
        return head;
    }

    void addLast(WorkNode n) {
        n.list = this;
        n.next = null;
        n.prev = tail;
        if (tail == null) {
            head = n;
        } else {
            tail.next = n;
        }
        tail = n;
        size++;
    }

    void addFirst(WorkNode n) {
        n.list = this;
        n.prev = null;
        n.next = head;
        if (head == null) {
            tail = n;
        } else {
            head.prev = n;
        }
        head = n;
        size++;
    }

    /** Inserts {@code n} right after {@code after}, which must be on this list. */
    void addAfter(WorkNode after, WorkNode n) {
        n.list = this;
        n.prev = after;
        n.next = after.next;
        if (after.next == null) {
            tail = n;
        } else {
            after.next.prev = n;
        }
        after.next = n;
        size++;
    }

    void remove(WorkNode n) {
        if (n.prev == null) {
            head = n.next;
        } else {
            n.prev.next = n.next;
        }
        if (n.next == null) {
            tail = n.prev;
        } else {
            n.next.prev = n.prev;
        }
        n.next = null;
        n.prev = null;
        n.list = null;
        size--;
    }

    /**
     * Moves {@code n} and the barriers linked behind it (kernel {@code move_linked_works}) from
     * this list to the tail of {@code to}.
     */
    void moveLinked(WorkNode n, WorkList to) {
        WorkNode cur = n;
        while (cur != null) {
            WorkNode nxt = cur.next;
            boolean linked = (cur.flags & WorkNode.LINKED) != 0;
            remove(cur);
            to.addLast(cur);
            if (!linked) {
                break;
            }
            cur = nxt;
        }
    }

    /** The user's items on the list: engine nodes (flush barriers, async flush steps) are not counted. Walks the list. */
    int countItems() {
        int c = 0;
        for (WorkNode n = head; n != null; n = n.next) {
            if (!n.isEngineNode()) {
                c++;
            }
        }
        return c;
    }

    void forEach(Consumer<WorkNode> action) {
        for (WorkNode n = head; n != null; n = n.next) {
            action.accept(n);
        }
    }
}
