package samples;

import com.sun.tools.attach.VirtualMachine;

/**
 * Attaches the agent to itself while running (the {@code Agent-Class} path): a class loaded
 * before the attach takes two monitors in one order before the attach (unseen), then in both
 * orders after it. Verdict: the cycle is reported (the loaded class was retransformed).
 * Arguments: the agent jar and its option string. Needs {@code -Djdk.attach.allowAttachSelf=true}.
 */
public final class AttachSample {
    static final class Left {
    }

    static final class Right {
    }

    static final class Orders {
        private final Left left = new Left();
        private final Right right = new Right();

        void leftThenRight() {
            synchronized (left) {
                synchronized (right) {
                    System.out.println("left then right");
                }
            }
        }

        void rightThenLeft() {
            synchronized (right) {
                synchronized (left) {
                    System.out.println("right then left");
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Orders o = new Orders();
        o.leftThenRight();
        attachSelf(args);
        System.out.println("attached");
        o.leftThenRight();
        o.rightThenLeft();
    }

    /** Loads the agent jar {@code args[0]} with the options {@code args[1]} (if any) into this JVM. */
    static void attachSelf(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(String.valueOf(ProcessHandle.current().pid()));
        try {
            vm.loadAgent(args[0], args.length > 1 ? args[1] : "");
        } finally {
            vm.detach();
        }
    }
}
