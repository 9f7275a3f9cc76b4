package org.workqueue4j.agent;

import java.util.function.Consumer;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FrameNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * The two places where the agent changes the library as it loads (the library itself has no
 * agent-specific code, and its public API offers no JVM-wide default validator):
 * <ul>
 *   <li>{@code WorkQueuesConfig}: its two default resolutions, {@code defaultValidator()} and
 *       {@code defaultFlushAnnotation()}, return the agent's validator and flush policy, so
 *       every runtime whose config does not name a validator (the global runtime and
 *       {@code WorkQueuesConfig.defaults()} included) uses the agent's validator, like
 *       {@code -Dworkqueue4j.lockdep=true} but shared with the application's locks. A config
 *       that sets a validator or a policy explicitly keeps it.</li>
 *   <li>{@code lockdep.Frames.internal(String)}: returns true for the agent's classes, so a
 *       report's frames start at the application's line.</li>
 * </ul>
 * Both are found by name and descriptor; when the library no longer has them, the agent says so
 * on its report stream and goes on without the patch (the agent's tests then fail).
 */
final class LibraryPatch {
    static final String CONFIG = "org/workqueue4j/WorkQueuesConfig";
    static final String FRAMES = "org/workqueue4j/lockdep/Frames";

    private static final String VALIDATOR_DESC = "Lorg/workqueue4j/lockdep/LockDependencyValidator;";
    private static final String FLUSH_DESC = "Lorg/workqueue4j/FlushAnnotation;";

    private LibraryPatch() {
    }

    /**
     * Patches a library class if it is one of the two.
     *
     * @return the new bytes, or null when {@code className} is not patched
     */
    static byte[] patch(String className, byte[] bytes, Consumer<String> warn) {
        if (className.equals(CONFIG)) {
            return rewrite(bytes, cn -> config(cn, warn));
        }
        if (className.equals(FRAMES)) {
            return rewrite(bytes, cn -> frames(cn, warn));
        }
        return null;
    }

    private interface Patch {
        boolean apply(ClassNode cn);
    }

    private static byte[] rewrite(byte[] bytes, Patch p) {
        ClassNode cn = new ClassNode();
        new ClassReader(bytes).accept(cn, ClassReader.EXPAND_FRAMES);
        if (!p.apply(cn)) {
            return null;
        }
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cn.accept(cw);
        return cw.toByteArray();
    }

    private static boolean config(ClassNode cn, Consumer<String> warn) {
        MethodNode validator = staticMethod(cn, "defaultValidator", "()" + VALIDATOR_DESC);
        MethodNode flush = staticMethod(cn, "defaultFlushAnnotation", "()" + FLUSH_DESC);
        if (validator == null || flush == null) {
            warn.accept("workqueue4j-agent: WorkQueuesConfig has no static defaultValidator()/defaultFlushAnnotation();"
                    + " the library's runtimes will not report to the agent's validator");
            return false;
        }
        returnHook(validator, "defaultValidator");
        returnHook(flush, "defaultFlushAnnotation");
        return true;
    }

    /** The static method {@code name} of descriptor {@code desc}, or null. */
    private static MethodNode staticMethod(ClassNode cn, String name, String desc) {
        for (MethodNode mn : cn.methods) {
            if (mn.name.equals(name) && mn.desc.equals(desc) && (mn.access & Opcodes.ACC_STATIC) != 0) {
                return mn;
            }
        }
        return null;
    }

    /** Replaces the body of {@code mn} (static, no arguments) by a call to the hook of that name and descriptor. */
    private static void returnHook(MethodNode mn, String hook) {
        mn.instructions.clear();
        mn.tryCatchBlocks.clear();
        if (mn.localVariables != null) {
            mn.localVariables.clear();
        }
        mn.instructions.add(LockTransformer.hook(hook, mn.desc));
        mn.instructions.add(new InsnNode(Opcodes.ARETURN));
    }

    private static boolean frames(ClassNode cn, Consumer<String> warn) {
        for (MethodNode mn : cn.methods) {
            if (mn.name.equals("internal") && mn.desc.equals("(Ljava/lang/String;)Z")
                    && (mn.access & Opcodes.ACC_STATIC) != 0) {
                LabelNode notAgent = new LabelNode();
                InsnList pre = new InsnList();
                pre.add(new VarInsnNode(Opcodes.ALOAD, 0));
                pre.add(new LdcInsnNode("org.workqueue4j.agent."));
                pre.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, "java/lang/String", "startsWith", "(Ljava/lang/String;)Z", false));
                pre.add(new JumpInsnNode(Opcodes.IFEQ, notAgent));
                pre.add(new InsnNode(Opcodes.ICONST_1));
                pre.add(new InsnNode(Opcodes.IRETURN));
                pre.add(notAgent);
                if (!startsWithFrame(mn)) { // two frames at one offset are invalid
                    pre.add(new FrameNode(Opcodes.F_NEW, 1, new Object[] {"java/lang/String"}, 0, new Object[0]));
                }
                mn.instructions.insert(pre);
                return true;
            }
        }
        warn.accept("workqueue4j-agent: lockdep.Frames.internal(String) not found;"
                + " report frames will start at the agent's hooks");
        return false;
    }

    private static boolean startsWithFrame(MethodNode mn) {
        for (AbstractInsnNode n = mn.instructions.getFirst(); n != null && n.getOpcode() < 0; n = n.getNext()) {
            if (n instanceof FrameNode) {
                return true;
            }
        }
        return false;
    }
}
