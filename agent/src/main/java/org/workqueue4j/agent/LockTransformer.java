package org.workqueue4j.agent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.LambdaMetafactory;
import java.security.ProtectionDomain;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Consumer;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.commons.AnalyzerAdapter;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.FieldNode;
import org.objectweb.asm.tree.FrameNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Rewrites the lock operations of application classes into calls to {@link Hooks}.
 */
final class LockTransformer implements ClassFileTransformer {

    /*
     * Implementation Overview
     *
     * What is rewritten (call sites in the application's classes, never the JDK's own code,
     * so locks taken inside the JDK are not seen; see the README for why):
     *  - monitorenter gets dup; ldc site; invokestatic Hooks.monitorEnter before
     *    it, monitorexit gets dup before it and invokestatic Hooks.monitorExit after it. javac
     *    compiles every synchronized block with a second monitorexit in its
     *    catch-any handler, so exits by exception are seen by the same rewrite. The exit hook is
     *    taken out of that handler's ranges (the handler covers itself): an Error thrown by the
     *    hook, a StackOverflowError on a nearly full stack, leaves the block instead of
     *    running the handler's monitorexit again and again. It stays in the ranges of handlers
     *    that exit other monitors (an enclosing block's, the synchronized method's), which still run.
     *  - A synchronized method loses ACC_SYNCHRONIZED and gets the equivalent explicit
     *    code: enter the monitor (this, saved in a fresh local, or the class) in a prologue, exit it before every
     *    return and in a catch-any handler around the body, which re-throws; the exit hooks
     *    after the returns' monitorexit lie outside every range, the handler outside its own.
     *    Done when a class is first loaded, and again when a class so rewritten is retransformed
     *    (retransformation may not change modifiers, so the synchronized methods of classes
     *    loaded before a late attach are not seen). A Serializable class without a
     *    serialVersionUID gets its original default one, which the flag change would alter; one
     *    with a field of that name the JDK does not count keeps the flag (the name is taken)
     *    and gets the hooks only: enter hook after the JVM's entry, exit hooks before the
     *    returns and in a catch-any handler.
     *  - A method whose rewrite exceeds the class-file limits is left unrewritten, the rest of its
     *    class rewritten.
     *  - lock, lockInterruptibly, tryLock and unlock called on
     *    Lock, ReentrantLock or the read/write views of
     *    ReentrantReadWriteLock, Object.wait and Condition.await* become
     *    invokestatic of a hook with the receiver as first argument (plus the site number
     *    for acquisitions); the hook decides at run time whether the receiver is a JDK lock it
     *    tracks and otherwise calls the original method.
     *  - A method reference to unlock (l::unlock) made by LambdaMetafactory gets
     *    Hooks.unlock as its implementation method (the class spun for it is not instrumented).
     *  - new ReentrantLock(..) / new ReentrantReadWriteLock(..) get
     *    dup; ldc site; invokestatic Hooks.created after the constructor, to name the
     *    lock's class after the field it is stored into or after the construction site.
     *
     * Line numbers: inserted instructions sit between the original ones under the same line
     * entries, so stack traces and the validator's report frames name the source line of the
     * synchronized block, lock call or wait; the prologue of a synchronized method gets the
     * line of the method's first statement.
     *
     * Stack map frames are kept (classes are read with expanded frames); the only new branch
     * target is the synchronized-method handler, whose frame (this, a Throwable on the
     * stack) is written by hand, so no class is loaded to compute frames. Max stack is recomputed.
     *
     * Two library classes are patched as well: WorkQueuesConfig resolves an unset validator and
     * flush-annotation policy to the agent's, so every runtime (the global one included)
     * reports the library's flush, drain, destroy and cancel pseudo-locks to the same validator as
     * the application's locks; and lockdep.Frames treats the agent's frames as internal, so
     * reports name the application's line, not the hook's.
     */

    private static final String HOOKS = "org/workqueue4j/agent/Hooks";
    private static final String LOCK = "java/util/concurrent/locks/Lock";
    private static final String TIME_UNIT = "java/util/concurrent/TimeUnit";
    private static final String CONDITION = "java/util/concurrent/locks/Condition";
    private static final Set<String> LOCK_OWNERS = Set.of(LOCK,
            "java/util/concurrent/locks/ReentrantLock",
            "java/util/concurrent/locks/ReentrantReadWriteLock$ReadLock",
            "java/util/concurrent/locks/ReentrantReadWriteLock$WriteLock");
    private static final Set<String> CONDITION_OWNERS = Set.of(CONDITION,
            "java/util/concurrent/locks/AbstractQueuedSynchronizer$ConditionObject");
    private static final Set<String> CONSTRUCTED = Set.of(
            "java/util/concurrent/locks/ReentrantLock",
            "java/util/concurrent/locks/ReentrantReadWriteLock");
    private static final String RW_LOCK = "java/util/concurrent/locks/ReentrantReadWriteLock";

    private final AgentOptions options;
    private final Consumer<String> warn;
    private final Instrumentation inst;
    private final Module agentModule = LockTransformer.class.getModule();
    /** Per class loader: whether its classes can link to the hooks (weak keys: loaders may go). */
    private final Map<ClassLoader, Boolean> loaders = new WeakHashMap<>();
    /**
     * Per class loader: the classes whose synchronized methods were rewritten as they loaded
     * (losing ACC_SYNCHRONIZED, or keeping it with the hooks only), so that a retransformation
     * does the same (weak keys; guarded by its monitor).
     */
    private final Map<ClassLoader, Set<String>> stripped = new WeakHashMap<>();

    LockTransformer(AgentOptions options, Consumer<String> warn, Instrumentation inst) {
        this.options = options;
        this.warn = warn;
        this.inst = inst;
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
                            ProtectionDomain pd, byte[] bytes) {
        if (className == null) {
            return null; // hidden classes (lambdas): nothing to name them by
        }
        try {
            if (!seesHooks(loader)) {
                return null; // code of this loader could not link to the hooks
            }
            byte[] patched = LibraryPatch.patch(className, bytes, warn);
            if (patched != null) {
                readAgent(module);
                return patched;
            }
            if (!options.instruments(className)) {
                return null;
            }
            byte[] b = instrument(loader, className, bytes, redefined != null);
            if (b != null) {
                readAgent(module);
            }
            return b;
        } catch (Throwable t) {
            warn.accept("workqueue4j-agent: left " + className.replace('/', '.') + " uninstrumented: " + t);
            return null;
        }
    }

    /**
     * Whether classes of {@code loader} resolve {@link Hooks} to the agent's own class: not the
     * bootstrap or platform loader (the agent is on the class path), nor an isolated loader that
     * does not delegate to the system loader. Instrumenting their classes would make them fail
     * to link. Answered once per loader.
     */
    private boolean seesHooks(ClassLoader loader) {
        if (loader == null) {
            return false;
        }
        synchronized (loaders) {
            Boolean known = loaders.get(loader);
            if (known != null) {
                return known;
            }
        }
        boolean sees;
        try {
            sees = Class.forName(Hooks.class.getName(), false, loader) == Hooks.class;
        } catch (ClassNotFoundException | LinkageError e) {
            sees = false;
        }
        synchronized (loaders) {
            loaders.put(loader, sees);
        }
        return sees;
    }

    /** A named module must read the agent's (unnamed) module to link to the hooks. */
    private void readAgent(Module module) {
        if (module != null && module.isNamed() && !module.canRead(agentModule)) {
            inst.redefineModule(module, Set.of(agentModule), Map.of(), Map.of(), Set.of(), Map.of());
        }
    }

    /**
     * Instruments one class. A method whose rewrite no longer fits the class-file limits (a method
     * near 64 KB, jumps that must be widened) is left as it is and the rest of the class rewritten.
     *
     * @param retransforming whether the class is already loaded: its synchronized methods are then
     *     rewritten only if they were when it loaded (retransformation may not change modifiers)
     * @return the new bytes, or null when the class has no lock operation
     */
    byte[] instrument(ClassLoader loader, String className, byte[] bytes, boolean retransforming) {
        ClassReader cr = new ClassReader(bytes);
        if (!mayLock(cr)) {
            return null; // most classes: one light pass, no tree, no rewrite
        }
        boolean mayStrip = !retransforming || wasStripped(loader, className);
        Set<String> left = new HashSet<>();
        while (true) {
            ClassNode cn = new ClassNode();
            cr.accept(cn, ClassReader.EXPAND_FRAMES);
            // a misdeclared serialVersionUID field: the flag is part of the default UID, kept
            boolean keepFlag = mayStrip && SerialVersions.mustKeepSynchronized(cn, loader);
            boolean strip = mayStrip && !keepFlag;
            Long suid = strip ? SerialVersions.defaultToKeep(cn, loader) : null; // of the original class
            boolean changed = false;
            boolean stripped = false;
            List<PendingSite> sites = new ArrayList<>();
            for (MethodNode mn : cn.methods) {
                if (left.contains(mn.name + mn.desc)) {
                    continue;
                }
                stripped |= (strip || keepFlag) && (mn.access & Opcodes.ACC_SYNCHRONIZED) != 0
                        && (mn.access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) == 0;
                changed |= new MethodRewrite(cn, mn, loader, strip, keepFlag, sites).run();
            }
            if (!changed) {
                return null;
            }
            if (stripped && suid != null) { // suid is null when keepFlag
                cn.fields.add(new FieldNode(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC | Opcodes.ACC_FINAL,
                        "serialVersionUID", "J", null, suid));
            }
            int first = Sites.registerAll(sites.stream().map(p -> p.site).toArray(Site[]::new));
            for (int i = 0; i < sites.size(); i++) {
                sites.get(i).push.cst = first + i;
            }
            try {
                byte[] out = write(cn);
                if (stripped && !retransforming) {
                    markStripped(loader, className);
                }
                return out;
            } catch (RuntimeException e) {
                Sites.unregister(first, sites.size()); // no code of this attempt is ever defined
                List<String> failing = failingMethods(cn, left);
                if (failing.isEmpty()) {
                    throw e;
                }
                left.addAll(failing);
                warn.accept("workqueue4j-agent: left " + failing + " of " + className.replace('/', '.')
                        + " uninstrumented: " + e);
            }
        }
    }

    /** A site of the class being rewritten and the constant that will carry its number. */
    private static final class PendingSite {
        final Site site;
        final LdcInsnNode push;

        PendingSite(Site site, LdcInsnNode push) {
            this.site = site;
            this.push = push;
        }
    }

    private static byte[] write(ClassNode cn) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cn.accept(cw);
        return cw.toByteArray();
    }

    /** The rewritten methods of {@code cn} that cannot be written, each tried alone in an empty class. */
    private static List<String> failingMethods(ClassNode cn, Set<String> left) {
        List<String> failing = new ArrayList<>();
        for (MethodNode mn : cn.methods) {
            if (left.contains(mn.name + mn.desc)) {
                continue;
            }
            ClassNode one = new ClassNode();
            one.version = cn.version;
            one.access = cn.access;
            one.name = cn.name;
            one.superName = cn.superName;
            one.methods.add(mn);
            try {
                write(one);
            } catch (RuntimeException e) {
                failing.add(mn.name + mn.desc);
            }
        }
        return failing;
    }

    /** Records that the synchronized methods of a class were rewritten when it loaded. */
    private void markStripped(ClassLoader loader, String className) {
        synchronized (stripped) {
            stripped.computeIfAbsent(loader, l -> new HashSet<>()).add(className);
        }
    }

    /** Whether the synchronized methods of a loaded class were rewritten when it loaded. */
    private boolean wasStripped(ClassLoader loader, String className) {
        synchronized (stripped) {
            Set<String> names = stripped.get(loader);
            return names != null && names.contains(className);
        }
    }

    /** A pass without debug info or frames that says whether the class has anything to rewrite. */
    private static boolean mayLock(ClassReader cr) {
        boolean[] found = new boolean[1];
        MethodVisitor scan = new MethodVisitor(Opcodes.ASM9) {
            @Override
            public void visitInsn(int opcode) {
                found[0] |= opcode == Opcodes.MONITORENTER || opcode == Opcodes.MONITOREXIT;
            }

            @Override
            public void visitTypeInsn(int opcode, String type) {
                found[0] |= opcode == Opcodes.NEW && CONSTRUCTED.contains(type);
            }

            @Override
            public void visitMethodInsn(int opcode, String owner, String name, String desc, boolean itf) {
                found[0] |= name.equals("wait") || LOCK_OWNERS.contains(owner) || CONDITION_OWNERS.contains(owner);
            }

            @Override
            public void visitInvokeDynamicInsn(String name, String desc, Handle bsm, Object... bsmArgs) {
                for (Object a : bsmArgs) {
                    found[0] |= a instanceof Handle && LOCK_OWNERS.contains(((Handle) a).getOwner());
                }
            }
        };
        cr.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
                found[0] |= (access & Opcodes.ACC_SYNCHRONIZED) != 0;
                return found[0] ? null : scan;
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        return found[0];
    }

    /** The rewrite of one method. */
    private static final class MethodRewrite {
        private final ClassNode cn;
        private final MethodNode mn;
        private final ClassLoader loader;
        private final boolean stripSynchronized;
        /**
         * Whether a synchronized method keeps ACC_SYNCHRONIZED and gets the hooks only (see
         * {@link SerialVersions#mustKeepSynchronized}); exclusive with {@link #stripSynchronized}.
         */
        private final boolean hookSynchronized;
        /** Exit hooks to take out of exception ranges: {from, to, non-null for every range}. */
        private final List<LabelNode[]> exitHooks = new ArrayList<>();
        /** Per exit hook, the local its monitorexit's monitor was loaded from, or -1 (see {@link #monitorLocal}). */
        private final List<Integer> exitLocals = new ArrayList<>();
        /** The catch-any handler added by {@link #wrapSynchronized}, or null. */
        private LabelNode methodHandler;
        /** The frame (locals, stack) before each replaceable call; filled by {@link #callStates}. */
        private Map<AbstractInsnNode, Object[][]> states = Map.of();
        /** The original calls for null receivers, appended to the method's code (see {@link #replace}). */
        private final InsnList nullPaths = new InsnList();
        /** Per null path: {the hook call it stands beside, its first label, its end label}. */
        private final List<AbstractInsnNode[]> nullRanges = new ArrayList<>();
        private boolean changed;

        /** The sites of this class, numbered once the whole class is rewritten (see {@link #instrument}). */
        private final List<PendingSite> sites;

        MethodRewrite(ClassNode cn, MethodNode mn, ClassLoader loader, boolean stripSynchronized,
                      boolean hookSynchronized, List<PendingSite> sites) {
            this.hookSynchronized = hookSynchronized;
            this.sites = sites;
            this.cn = cn;
            this.mn = mn;
            this.loader = loader;
            this.stripSynchronized = stripSynchronized;
        }

        boolean run() {
            if ((mn.access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0) {
                return false;
            }
            InsnList insns = mn.instructions;
            states = callStates();
            List<AbstractInsnNode> returns = new ArrayList<>();
            Map<String, Deque<Boolean>> news = new HashMap<>();
            constructionsAt.clear();
            for (AbstractInsnNode n = insns.getFirst(); n != null; n = n.getNext()) {
                int op = n.getOpcode();
                if (op >= Opcodes.IRETURN && op <= Opcodes.RETURN) {
                    returns.add(n);
                } else if (op == Opcodes.MONITORENTER) {
                    FieldInsnNode f = fieldBeforeMonitor(n);
                    insns.insertBefore(n, list(new InsnNode(Opcodes.DUP), site(n, f),
                            hook("monitorEnter", "(Ljava/lang/Object;I)V")));
                    changed = true;
                } else if (op == Opcodes.MONITOREXIT) {
                    int local = monitorLocal(n);
                    insns.insertBefore(n, new InsnNode(Opcodes.DUP));
                    n = afterExit(n, false, local);
                    changed = true;
                } else if (op == Opcodes.NEW && CONSTRUCTED.contains(((TypeInsnNode) n).desc)) {
                    AbstractInsnNode next = nextReal(n);
                    news.computeIfAbsent(((TypeInsnNode) n).desc, k -> new ArrayDeque<>())
                            .push(next != null && next.getOpcode() == Opcodes.DUP);
                } else if (op == Opcodes.INVOKESPECIAL && isWait((MethodInsnNode) n)) {
                    n = call((MethodInsnNode) n); // super.wait(..): Object.wait is final, the same call
                } else if (op == Opcodes.INVOKESPECIAL) {
                    n = constructed((MethodInsnNode) n, news);
                } else if (op == Opcodes.INVOKEVIRTUAL || op == Opcodes.INVOKEINTERFACE) {
                    n = call((MethodInsnNode) n);
                } else if (op == Opcodes.INVOKEDYNAMIC) {
                    changed |= unlockReference((InvokeDynamicInsnNode) n);
                }
            }
            appendNullPaths();
            if ((mn.access & Opcodes.ACC_SYNCHRONIZED) != 0 && (stripSynchronized || hookSynchronized)) {
                wrapSynchronized(returns, stripSynchronized);
            }
            excludeExitHooks();
            return changed;
        }

        /**
         * Inserts the exit hook after the {@code monitorexit} {@code exit} (the monitor, duplicated
         * before it, is on the stack) and remembers it for {@link #excludeExitHooks}; returns the
         * last node inserted. The hook runs once the monitor is released, so an Error thrown by
         * the hook itself (a StackOverflowError when the stack is nearly full) cannot make a
         * handler exit the monitor a second time.
         */
        private AbstractInsnNode afterExit(AbstractInsnNode exit, boolean allRanges, int local) {
            LabelNode from = new LabelNode();
            LabelNode to = new LabelNode();
            mn.instructions.insert(exit, list(from, hook("monitorExit", "(Ljava/lang/Object;)V"), to));
            exitHooks.add(new LabelNode[] {from, to, allRanges ? to : null});
            exitLocals.add(local);
            return to;
        }

        /**
         * The local the monitor of the (original) {@code monitorexit} {@code exit} was loaded
         * from: javac's {@code aload m; monitorexit}, a {@code dup} between them skipped; -1 for
         * another shape.
         */
        private static int monitorLocal(AbstractInsnNode exit) {
            AbstractInsnNode p = prevReal(exit);
            while (p != null && p.getOpcode() == Opcodes.DUP) {
                p = prevReal(p);
            }
            return p != null && p.getOpcode() == Opcodes.ALOAD ? ((VarInsnNode) p).var : -1;
        }

        /**
         * Takes the exit hooks out of the exception ranges that would run a {@code monitorexit}
         * of the same monitor again: javac's catch-any handler of a synchronized block (it covers
         * the block's exits and itself), and, for the exits of a rewritten synchronized method,
         * every range (the JVM releases the monitor of a synchronized method after the return,
         * where no handler of the method applies). A block's hook stays in the ranges of the
         * handlers of other monitors (an enclosing block's, the rewritten synchronized method's
         * own), so an Error thrown by it still exits those monitors. A range is split in two
         * around the hook; pieces without an instruction are dropped.
         */
        private void excludeExitHooks() {
            if (exitHooks.isEmpty()) {
                return;
            }
            InsnList insns = mn.instructions;
            for (int i = 0; i < exitHooks.size(); i++) {
                LabelNode[] h = exitHooks.get(i);
                int local = exitLocals.get(i);
                int from = insns.indexOf(h[0]);
                int to = insns.indexOf(h[1]);
                List<TryCatchBlockNode> out = new ArrayList<>(mn.tryCatchBlocks.size() + 1);
                for (TryCatchBlockNode t : mn.tryCatchBlocks) {
                    boolean covers = insns.indexOf(t.start) <= from && to <= insns.indexOf(t.end);
                    boolean sameMonitor = h[2] != null
                            || (t.handler != methodHandler && exitedLocal(t) == local && local != NOT_AN_EXIT);
                    if (!covers || !sameMonitor) {
                        out.add(t);
                        continue;
                    }
                    if (hasCode(t.start, h[0])) {
                        out.add(new TryCatchBlockNode(t.start, h[0], t.handler, t.type));
                    }
                    if (hasCode(h[1], t.end)) {
                        out.add(new TryCatchBlockNode(h[1], t.end, t.handler, t.type));
                    }
                }
                mn.tryCatchBlocks.clear();
                mn.tryCatchBlocks.addAll(out);
            }
        }

        /** What {@link #exitedLocal} answers for a handler that does not start by exiting a monitor. */
        private static final int NOT_AN_EXIT = -2;

        /**
         * The local whose monitor a catch-any handler starts by exiting (javac: astore t; aload m;
         * monitorexit): m, or -1 when the monitor comes from elsewhere; {@link #NOT_AN_EXIT} when the
         * handler does not start with a monitorexit.
         */
        private static int exitedLocal(TryCatchBlockNode t) {
            if (t.type != null) {
                return NOT_AN_EXIT;
            }
            AbstractInsnNode p = t.handler;
            for (int seen = 0; p != null && seen < 6; p = p.getNext()) {
                int op = p.getOpcode();
                if (op < 0) {
                    continue;
                }
                seen++;
                if (op == Opcodes.MONITOREXIT) {
                    return monitorLocal(p);
                }
                if (op == Opcodes.MONITORENTER || op == Opcodes.ATHROW || p instanceof JumpInsnNode
                        || (op >= Opcodes.IRETURN && op <= Opcodes.RETURN)) {
                    return NOT_AN_EXIT;
                }
            }
            return NOT_AN_EXIT;
        }

        /** Whether an instruction lies between the labels {@code from} and {@code to}. */
        private static boolean hasCode(LabelNode from, LabelNode to) {
            for (AbstractInsnNode p = from; p != null && p != to; p = p.getNext()) {
                if (p.getOpcode() >= 0) {
                    return true;
                }
            }
            return false;
        }

        /** The constructions of locks seen so far in the method being rewritten, per site ({@link #where}). */
        private final Map<String, Integer> constructionsAt = new HashMap<>();

        /** After {@code new ReentrantLock(..)}: record the lock's construction site; returns the last node handled. */
        private AbstractInsnNode constructed(MethodInsnNode m, Map<String, Deque<Boolean>> news) {
            Deque<Boolean> pending = news.get(m.owner);
            if (!m.name.equals("<init>") || pending == null || pending.isEmpty()) {
                return m; // super(...) of a subclass, or not a lock
            }
            if (!pending.pop()) {
                return m; // not the NEW; DUP; ...; INVOKESPECIAL shape: no reference left to pass
            }
            AbstractInsnNode next = nextReal(m);
            FieldInsnNode f = next != null && (next.getOpcode() == Opcodes.PUTFIELD || next.getOpcode() == Opcodes.PUTSTATIC)
                    ? (FieldInsnNode) next : null;
            // A lock's class is its construction site's (rule 3): the second and later
            // constructions of this method on one line (or in a class file without line
            // numbers) are sites of their own, "#2" and on, as each mutex_init() has its own key.
            String w = where(lineOf(m));
            int k = constructionsAt.merge(w, 1, Integer::sum);
            InsnList after = list(new InsnNode(Opcodes.DUP), site(k == 1 ? w : w + " #" + k, f), hook("created", "(Ljava/lang/Object;I)V"));
            AbstractInsnNode last = after.getLast();
            mn.instructions.insert(m, after);
            changed = true;
            return last;
        }

        /** Replaces a call to a lock, wait or await method; returns the node now in its place. */
        private AbstractInsnNode call(MethodInsnNode m) {
            String name = m.name;
            String desc = m.desc;
            if (isWait(m)) {
                return replace(m, null, "objectWait", "(Ljava/lang/Object;" + desc.substring(1));
            }
            if (LOCK_OWNERS.contains(m.owner)) {
                String lockArg = "(L" + LOCK + ";";
                switch (name + desc) {
                    case "lock()V":
                        return replace(m, site(m, fieldBeforeReceiver(m)), "lock", lockArg + "I)V");
                    case "lockInterruptibly()V":
                        return replace(m, site(m, fieldBeforeReceiver(m)), "lockInterruptibly", lockArg + "I)V");
                    case "tryLock()Z":
                        return replace(m, site(m, fieldBeforeReceiver(m)), "tryLock", lockArg + "I)Z");
                    case "tryLock(JLjava/util/concurrent/TimeUnit;)Z":
                        return replace(m, site(m, fieldBeforeReceiver(m)), "tryLock", lockArg + "JL" + TIME_UNIT + ";I)Z");
                    case "unlock()V":
                        return replace(m, null, "unlock", lockArg + ")V");
                    default:
                        return m;
                }
            }
            if (CONDITION_OWNERS.contains(m.owner) && name.startsWith("await")) {
                String condArg = "(L" + CONDITION + ";";
                switch (name + desc) {
                    case "await()V":
                    case "awaitUninterruptibly()V":
                    case "await(JLjava/util/concurrent/TimeUnit;)Z":
                    case "awaitNanos(J)J":
                    case "awaitUntil(Ljava/util/Date;)Z":
                        return replace(m, null, name, condArg + desc.substring(1));
                    default:
                        return m;
                }
            }
            return m;
        }

        /**
         * Replaces the call {@code m} with the hook {@code hook}. Where the frame before the call
         * is known (or the class file has no frames), a null receiver takes the original call
         * instead, in code appended to the method under the call's line and exception ranges, so
         * it throws the NullPointerException the program threw without the agent (same frame,
         * same message): the arguments go to fresh locals, the receiver is tested, the
         * arguments are loaded back.
         */
        private AbstractInsnNode replace(MethodInsnNode m, AbstractInsnNode sitePush, String hook, String hookDesc) {
            MethodInsnNode h = hook(hook, hookDesc);
            boolean frames = (cn.version & 0xFFFF) >= Opcodes.V1_6;
            Object[][] state = states.get(m);
            if (!frames || state != null) {
                Type[] args = Type.getArgumentTypes(m.desc);
                int[] slots = new int[args.length];
                int next = mn.maxLocals;
                for (int i = 0; i < args.length; i++) {
                    slots[i] = next;
                    next += args[i].getSize();
                }
                mn.maxLocals = next;
                LabelNode isNull = new LabelNode();
                LabelNode end = new LabelNode();
                InsnList test = new InsnList();
                for (int i = args.length - 1; i >= 0; i--) {
                    test.add(new VarInsnNode(args[i].getOpcode(Opcodes.ISTORE), slots[i]));
                }
                test.add(new InsnNode(Opcodes.DUP));
                test.add(new JumpInsnNode(Opcodes.IFNULL, isNull));
                for (int i = 0; i < args.length; i++) {
                    test.add(new VarInsnNode(args[i].getOpcode(Opcodes.ILOAD), slots[i]));
                }
                mn.instructions.insertBefore(m, test);

                nullPaths.add(isNull);
                if (frames) {
                    nullPaths.add(nullFrame(state, args, slots));
                }
                int line = lineOf(m);
                if (line > 0) {
                    nullPaths.add(new LineNumberNode(line, isNull));
                }
                for (int i = 0; i < args.length; i++) {
                    nullPaths.add(new VarInsnNode(args[i].getOpcode(Opcodes.ILOAD), slots[i]));
                }
                nullPaths.add(new MethodInsnNode(m.getOpcode(), m.owner, m.name, m.desc, m.itf)); // throws
                nullPaths.add(new InsnNode(Opcodes.ACONST_NULL));
                nullPaths.add(new InsnNode(Opcodes.ATHROW)); // not reached
                nullPaths.add(end);
                nullRanges.add(new AbstractInsnNode[] {h, isNull, end});
            }
            if (sitePush != null) {
                mn.instructions.insertBefore(m, sitePush);
            }
            mn.instructions.set(m, h);
            changed = true;
            return h;
        }

        /**
         * A method reference to {@code unlock} ({@code l::unlock}, the lock-guard idiom) made
         * by {@code LambdaMetafactory} gets {@link Hooks#unlock} as its implementation, since the
         * class the JVM spins for it is not instrumented. A serializable one is left alone (its
         * implementation method is part of its serialized form).
         *
         * @return whether the call site was changed
         */
        private static boolean unlockReference(InvokeDynamicInsnNode indy) {
            if (!indy.bsm.getOwner().equals("java/lang/invoke/LambdaMetafactory") || indy.bsmArgs.length < 3
                    || !(indy.bsmArgs[1] instanceof Handle)) {
                return false;
            }
            if (indy.bsm.getName().equals("altMetafactory")
                    && (indy.bsmArgs.length < 4 || !(indy.bsmArgs[3] instanceof Integer)
                        || ((Integer) indy.bsmArgs[3] & LambdaMetafactory.FLAG_SERIALIZABLE) != 0)) {
                return false;
            }
            Handle h = (Handle) indy.bsmArgs[1];
            boolean unlock = (h.getTag() == Opcodes.H_INVOKEVIRTUAL || h.getTag() == Opcodes.H_INVOKEINTERFACE)
                    && h.getName().equals("unlock") && h.getDesc().equals("()V") && LOCK_OWNERS.contains(h.getOwner());
            if (!unlock) {
                return false;
            }
            Type[] captured = Type.getArgumentTypes(indy.desc);
            if (captured.length > 0 && !captured[0].getInternalName().equals(h.getOwner())) {
                return false; // a captured receiver must match the hook's parameter exactly
            }
            // one overload of Hooks.unlock per type in LOCK_OWNERS
            indy.bsmArgs[1] = new Handle(Opcodes.H_INVOKESTATIC, HOOKS, "unlock", "(L" + h.getOwner() + ";)V", false);
            return true;
        }

        /**
         * Whether {@code m} calls {@code Object.wait} (one of its three overloads, final in
         * {@code Object}, so whatever the owner and whether virtual or, for {@code super.wait()},
         * special).
         */
        private static boolean isWait(MethodInsnNode m) {
            return m.name.equals("wait") && (m.desc.equals("()V") || m.desc.equals("(J)V") || m.desc.equals("(JI)V"));
        }

        /** Whether {@link #call} may replace {@code n}. */
        private static boolean replaceable(AbstractInsnNode n) {
            if (n.getOpcode() == Opcodes.INVOKESPECIAL) {
                return isWait((MethodInsnNode) n);
            }
            if (n.getOpcode() != Opcodes.INVOKEVIRTUAL && n.getOpcode() != Opcodes.INVOKEINTERFACE) {
                return false;
            }
            MethodInsnNode m = (MethodInsnNode) n;
            return m.name.equals("wait") || LOCK_OWNERS.contains(m.owner) || CONDITION_OWNERS.contains(m.owner);
        }

        /**
         * The frame before each replaceable call of a class file with stack map frames, in
         * {@link AnalyzerAdapter}'s form (a long or double takes two entries); calls in
         * unreachable code or with an uninitialized value of unknown origin have none.
         */
        private Map<AbstractInsnNode, Object[][]> callStates() {
            if ((cn.version & 0xFFFF) < Opcodes.V1_6) {
                return Map.of();
            }
            boolean any = false;
            for (AbstractInsnNode n = mn.instructions.getFirst(); n != null && !any; n = n.getNext()) {
                any = replaceable(n);
            }
            if (!any) {
                return Map.of();
            }
            labelNews();
            Map<AbstractInsnNode, Object[][]> out = new HashMap<>();
            Map<Label, LabelNode> labels = new HashMap<>();
            AnalyzerAdapter a = new AnalyzerAdapter(cn.name, mn.access, mn.name, mn.desc, null);
            for (AbstractInsnNode n = mn.instructions.getFirst(); n != null; n = n.getNext()) {
                if (n instanceof LabelNode) {
                    labels.put(((LabelNode) n).getLabel(), (LabelNode) n);
                }
                if (replaceable(n) && a.locals != null && a.stack != null) {
                    Object[] locals = withLabelNodes(a.locals, labels);
                    Object[] stack = withLabelNodes(a.stack, labels);
                    if (locals != null && stack != null) {
                        out.put(n, new Object[][] {locals, stack});
                    }
                }
                n.accept(a);
            }
            return out;
        }

        /**
         * Puts a label right before every {@code new} that has none: {@link AnalyzerAdapter} names
         * an uninitialized value by the label before its {@code new}, and makes a label of its own,
         * not in the code, when there is none; a frame of a null path can then not name the value
         * (an object under construction on the stack, as in {@code new Box(lock.tryLock())}).
         */
        private void labelNews() {
            for (AbstractInsnNode n = mn.instructions.getFirst(); n != null; n = n.getNext()) {
                if (n.getOpcode() == Opcodes.NEW && !(n.getPrevious() instanceof LabelNode)) {
                    mn.instructions.insertBefore(n, new LabelNode());
                }
            }
        }

        /** The types with each Label (an uninitialized value) as its LabelNode; null if one is not in the code. */
        private static Object[] withLabelNodes(List<Object> types, Map<Label, LabelNode> labels) {
            Object[] out = types.toArray();
            for (int i = 0; i < out.length; i++) {
                if (out[i] instanceof Label) {
                    out[i] = labels.get(out[i]);
                    if (out[i] == null) {
                        return null;
                    }
                }
            }
            return out;
        }

        /**
         * The frame of a null path: the locals before the call and the saved arguments, the
         * stack before the call without its arguments (the receiver on top).
         */
        private static FrameNode nullFrame(Object[][] state, Type[] args, int[] slots) {
            List<Object> locals = new ArrayList<>(Arrays.asList(state[0]));
            int argSize = 0;
            for (int i = 0; i < args.length; i++) {
                while (locals.size() < slots[i]) {
                    locals.add(Opcodes.TOP);
                }
                locals.add(frameType(args[i]));
                if (args[i].getSize() == 2) {
                    locals.add(Opcodes.TOP);
                }
                argSize += args[i].getSize();
            }
            List<Object> stack = new ArrayList<>(Arrays.asList(state[1]).subList(0, state[1].length - argSize));
            Object[] l = oneEntryPerValue(locals);
            Object[] st = oneEntryPerValue(stack);
            return new FrameNode(Opcodes.F_NEW, l.length, l, st.length, st);
        }

        /** A frame type: {@link AnalyzerAdapter}'s second entry of a long or double dropped. */
        private static Object[] oneEntryPerValue(List<Object> types) {
            List<Object> out = new ArrayList<>(types.size());
            for (int i = 0; i < types.size(); i++) {
                Object t = types.get(i);
                out.add(t);
                if (t == Opcodes.LONG || t == Opcodes.DOUBLE) {
                    i++;
                }
            }
            return out.toArray();
        }

        private static Object frameType(Type t) {
            switch (t.getSort()) {
                case Type.BOOLEAN:
                case Type.CHAR:
                case Type.BYTE:
                case Type.SHORT:
                case Type.INT:
                    return Opcodes.INTEGER;
                case Type.FLOAT:
                    return Opcodes.FLOAT;
                case Type.LONG:
                    return Opcodes.LONG;
                case Type.DOUBLE:
                    return Opcodes.DOUBLE;
                case Type.ARRAY:
                    return t.getDescriptor();
                default:
                    return t.getInternalName();
            }
        }

        /**
         * Appends the null paths to the code; each gets the exception ranges that cover its call
         * (in their order, after the existing ones), so a handler of the program still catches
         * the NullPointerException.
         */
        private void appendNullPaths() {
            if (nullRanges.isEmpty()) {
                return;
            }
            InsnList insns = mn.instructions;
            List<TryCatchBlockNode> copies = new ArrayList<>();
            for (AbstractInsnNode[] r : nullRanges) {
                int at = insns.indexOf(r[0]);
                for (TryCatchBlockNode t : mn.tryCatchBlocks) {
                    if (insns.indexOf(t.start) <= at && at < insns.indexOf(t.end)) {
                        copies.add(new TryCatchBlockNode((LabelNode) r[1], (LabelNode) r[2], t.handler, t.type));
                    }
                }
            }
            insns.add(nullPaths);
            mn.tryCatchBlocks.addAll(copies);
        }

        /**
         * Gives a synchronized method explicit enter/exit code (see the class overview). With
         * {@code strip} false the method keeps ACC_SYNCHRONIZED (the JVM enters and exits the
         * monitor) and gets the hooks only: the enter hook once the monitor is entered (so a
         * deadlock on it blocks before it is reported), the exit hook before every return and in
         * the catch-any handler, which re-throws.
         */
        private void wrapSynchronized(List<AbstractInsnNode> returns, boolean strip) {
            InsnList insns = mn.instructions;
            boolean isStatic = (mn.access & Opcodes.ACC_STATIC) != 0;
            int firstLine = firstLine();
            LabelNode prologue = new LabelNode();
            LabelNode start = new LabelNode();
            LabelNode end = new LabelNode();
            LabelNode handler = new LabelNode();
            int slot = -1;
            if (!isStatic) {
                slot = mn.maxLocals; // after the null paths' locals
                mn.maxLocals = slot + 1;
                keepInFrames(slot);
            }

            InsnList pro = new InsnList();
            pro.add(prologue);
            if (firstLine > 0) {
                pro.add(new LineNumberNode(firstLine, prologue));
            }
            if (isStatic) {
                pro.add(monitor(true, slot));
            } else {
                pro.add(new VarInsnNode(Opcodes.ALOAD, 0));
                pro.add(new InsnNode(Opcodes.DUP));
                pro.add(new VarInsnNode(Opcodes.ASTORE, slot));
            }
            if (strip) {
                pro.add(new InsnNode(Opcodes.DUP));
            }
            pro.add(push(new Site(where(firstLine), null, null, loader)));
            // Stripped, the method enters the monitor right after the hook; kept, the JVM entered it already.
            pro.add(hook(strip ? "monitorEnter" : "synchronizedMethodEntered", "(Ljava/lang/Object;I)V"));
            if (strip) {
                pro.add(new InsnNode(Opcodes.MONITORENTER));
            }
            pro.add(start);
            insns.insert(pro);

            for (AbstractInsnNode r : returns) {
                InsnList exit = monitor(isStatic, slot);
                if (strip) {
                    exit.add(new InsnNode(Opcodes.DUP));
                    exit.add(new InsnNode(Opcodes.MONITOREXIT));
                }
                AbstractInsnNode beforeHook = exit.getLast(); // the monitor is on the stack
                insns.insertBefore(r, exit);
                afterExit(beforeHook, true, slot);
            }

            InsnList tail = new InsnList();
            tail.add(end);
            tail.add(handler);
            if ((cn.version & 0xFFFF) >= Opcodes.V1_6) {
                tail.add(handlerFrame(isStatic, slot));
            }
            tail.add(monitor(isStatic, slot));
            if (strip) {
                tail.add(new InsnNode(Opcodes.DUP));
                tail.add(new InsnNode(Opcodes.MONITOREXIT)); // the handler is outside its own range
            }
            tail.add(hook("monitorExit", "(Ljava/lang/Object;)V"));
            tail.add(new InsnNode(Opcodes.ATHROW));
            insns.add(tail);
            mn.tryCatchBlocks.add(new TryCatchBlockNode(start, end, handler, null));
            methodHandler = handler;
            if (strip) {
                mn.access &= ~Opcodes.ACC_SYNCHRONIZED;
            }
            changed = true;
        }

        /**
         * The instructions pushing the monitor of the synchronized method: {@code this}, as the
         * prologue saved it in local {@code slot} (the body may store something else into local 0:
         * the JVM exits the monitor it entered, whatever that slot holds later), or the class; a
         * class file older than Java 5 cannot {@code ldc} a class, so it asks
         * {@code Class.forName}, which resolves the name through the caller's (this class's) loader.
         */
        private InsnList monitor(boolean isStatic, int slot) {
            if (!isStatic) {
                return list(new VarInsnNode(Opcodes.ALOAD, slot));
            }
            if ((cn.version & 0xFFFF) >= Opcodes.V1_5) {
                return list(new LdcInsnNode(Type.getObjectType(cn.name)));
            }
            return list(new LdcInsnNode(cn.name.replace('/', '.')),
                    new MethodInsnNode(Opcodes.INVOKESTATIC, "java/lang/Class", "forName",
                            "(Ljava/lang/String;)Ljava/lang/Class;", false));
        }

        /**
         * The frame at the catch-any handler: the saved {@code this} in local {@code slot} (the one
         * local the handler reads; a static method's handler reads none), the exception on the
         * stack. The other locals are left out: the body may reuse their slots for other types.
         */
        private FrameNode handlerFrame(boolean isStatic, int slot) {
            Object[] locals = new Object[isStatic ? 0 : slot + 1];
            Arrays.fill(locals, Opcodes.TOP);
            if (!isStatic) {
                locals[slot] = cn.name;
            }
            return new FrameNode(Opcodes.F_NEW, locals.length, locals, 1, new Object[] {"java/lang/Throwable"});
        }

        /**
         * Adds {@code this} in local {@code slot} (beyond every local the code uses) to every frame
         * of the method, which the code read with expanded frames: the saved receiver lives
         * through the whole body, for its exits and the catch-any handler.
         */
        private void keepInFrames(int slot) {
            for (AbstractInsnNode n = mn.instructions.getFirst(); n != null; n = n.getNext()) {
                if (!(n instanceof FrameNode)) {
                    continue;
                }
                FrameNode f = (FrameNode) n;
                List<Object> locals = f.local == null ? new ArrayList<>() : new ArrayList<>(f.local);
                int used = 0;
                for (Object t : locals) {
                    used += t == Opcodes.LONG || t == Opcodes.DOUBLE ? 2 : 1;
                }
                while (used < slot) {
                    locals.add(Opcodes.TOP);
                    used++;
                }
                locals.add(cn.name);
                f.local = locals;
            }
        }

        /** Registers the site of instruction {@code n} and returns the instruction pushing its number. */
        private AbstractInsnNode site(AbstractInsnNode n, FieldInsnNode field) {
            return site(where(lineOf(n)), field);
        }

        /** The instruction pushing the number of a site named {@code where}, read from {@code field} or none. */
        private AbstractInsnNode site(String where, FieldInsnNode field) {
            return push(new Site(where, field == null ? null : field.owner, field == null ? null : field.name, loader));
        }

        /** The instruction pushing the number of site {@code s}, set when the class is written. */
        private AbstractInsnNode push(Site s) {
            LdcInsnNode n = new LdcInsnNode(0);
            sites.add(new PendingSite(s, n));
            return n;
        }

        private String where(int line) {
            String file = cn.sourceFile == null ? "Unknown Source" : cn.sourceFile;
            return cn.name.replace('/', '.') + "." + mn.name + "(" + file + (line > 0 ? ":" + line : "") + ")";
        }

        private int firstLine() {
            for (AbstractInsnNode n = mn.instructions.getFirst(); n != null; n = n.getNext()) {
                if (n instanceof LineNumberNode) {
                    return ((LineNumberNode) n).line;
                }
            }
            return -1;
        }

        private static int lineOf(AbstractInsnNode n) {
            for (AbstractInsnNode p = n; p != null; p = p.getPrevious()) {
                if (p instanceof LineNumberNode) {
                    return ((LineNumberNode) p).line;
                }
            }
            return -1;
        }

        /**
         * The field a monitor was read from: javac compiles {@code synchronized (this.f)} to
         * {@code getfield f; dup; astore n; monitorenter}. Stops at a merge point (a frame): the
         * value may come from elsewhere.
         */
        private static FieldInsnNode fieldBeforeMonitor(AbstractInsnNode enter) {
            AbstractInsnNode p = prevReal(enter);
            while (p != null && (p.getOpcode() == Opcodes.DUP || p.getOpcode() == Opcodes.ASTORE)) {
                p = prevReal(p);
            }
            return asFieldRead(p);
        }

        /**
         * The field the receiver of a no-argument lock call was read from: {@code getfield f;
         * invokevirtual lock}, or {@code getfield rw; invokevirtual readLock|writeLock;
         * invokevirtual lock} (then the class is the read/write lock's field).
         */
        private static FieldInsnNode fieldBeforeReceiver(MethodInsnNode call) {
            AbstractInsnNode p = prevReal(call);
            int args = Type.getArgumentsAndReturnSizes(call.desc) >> 2; // with the receiver
            for (int need = args - 1; need > 0 && p != null; p = prevReal(p)) {
                int pushed = pushOnly(p);
                if (pushed <= 0) {
                    return null; // an argument computed by more than a load or a constant
                }
                need -= pushed;
            }
            if (p instanceof MethodInsnNode) {
                MethodInsnNode m = (MethodInsnNode) p;
                if (m.owner.equals(RW_LOCK) && (m.name.equals("readLock") || m.name.equals("writeLock"))) {
                    p = prevReal(p);
                }
            }
            return asFieldRead(p);
        }

        /**
         * The stack slots an instruction pushes when it pops nothing (a constant, a local, a
         * static field), else 0: the arguments of a timed {@code tryLock} are walked back over
         * to its receiver.
         */
        private static int pushOnly(AbstractInsnNode p) {
            int op = p.getOpcode();
            if (op == Opcodes.LCONST_0 || op == Opcodes.LCONST_1 || op == Opcodes.DCONST_0 || op == Opcodes.DCONST_1
                    || op == Opcodes.LLOAD || op == Opcodes.DLOAD) {
                return 2;
            }
            if ((op >= Opcodes.ACONST_NULL && op <= Opcodes.SIPUSH) || op == Opcodes.ILOAD || op == Opcodes.FLOAD
                    || op == Opcodes.ALOAD) {
                return 1;
            }
            if (op == Opcodes.LDC) {
                Object c = ((LdcInsnNode) p).cst;
                return c instanceof Long || c instanceof Double ? 2 : 1;
            }
            if (op == Opcodes.GETSTATIC) {
                return Type.getType(((FieldInsnNode) p).desc).getSize();
            }
            return 0;
        }

        /**
         * {@code p} as a field read, or null: not one, or a read of a field the compiler made
         * rather than the source ({@code this$0} for {@code Outer.this} in an inner class,
         * {@code val$x} for a local captured by a local or anonymous class), which names no field
         * of the program: the lock is then named as one reached through no field, as the same
         * object written as {@code this} in the outer class, or captured by a lambda, is.
         */
        private static FieldInsnNode asFieldRead(AbstractInsnNode p) {
            if (p != null && (p.getOpcode() == Opcodes.GETFIELD || p.getOpcode() == Opcodes.GETSTATIC)) {
                FieldInsnNode f = (FieldInsnNode) p;
                return f.name.startsWith("this$") || f.name.startsWith("val$") ? null : f;
            }
            return null;
        }

        /** The previous instruction, skipping labels and line numbers; null at a frame (a merge point). */
        private static AbstractInsnNode prevReal(AbstractInsnNode n) {
            for (AbstractInsnNode p = n.getPrevious(); p != null; p = p.getPrevious()) {
                if (p instanceof FrameNode) {
                    return null;
                }
                if (p.getOpcode() >= 0) {
                    return p;
                }
            }
            return null;
        }

        private static AbstractInsnNode nextReal(AbstractInsnNode n) {
            for (AbstractInsnNode p = n.getNext(); p != null; p = p.getNext()) {
                if (p.getOpcode() >= 0) {
                    return p;
                }
            }
            return null;
        }
    }

    static MethodInsnNode hook(String name, String desc) {
        return new MethodInsnNode(Opcodes.INVOKESTATIC, HOOKS, name, desc, false);
    }

    static InsnList list(AbstractInsnNode... nodes) {
        InsnList l = new InsnList();
        for (AbstractInsnNode n : nodes) {
            l.add(n);
        }
        return l;
    }
}
