package org.workqueue4j.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Writes classes whose synchronized methods reuse a dead local slot: valid bytecode, of the kind
 * optimizers and shrinkers emit, that javac never does (so the samples cannot be compiled from
 * source). Each is a public class of package {@code samples.gen} with a public no-argument
 * constructor, written under a directory the test puts on the sample's class path.
 */
final class SlotReuseClasses {
    private SlotReuseClasses() {
    }

    /**
     * Writes {@code samples.gen.Reused}: {@code public static synchronized int f(String s)} and
     * {@code public synchronized int g(String s)} whose code stores {@code s.length()} (an int)
     * into the slot of the dead parameter {@code s} and returns it (no branches, so no stack map
     * frames are needed).
     *
     * @return {@code dir}
     */
    static Path writeReusedParameter(Path dir) throws IOException {
        return write(dir, "Reused", cw -> {
            reusingParameter(cw, Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_SYNCHRONIZED, "f", 0);
            reusingParameter(cw, Opcodes.ACC_PUBLIC | Opcodes.ACC_SYNCHRONIZED, "g", 1);
        });
    }

    /**
     * Writes {@code samples.gen.ThisSlot}: {@code public synchronized int h(ThisSlot other)} whose
     * code stores {@code other} into local 0 (the slot of {@code this}, dead after the first
     * instruction) and returns 7. The JVM releases the monitor of the receiver it entered,
     * whatever local 0 holds later.
     *
     * @return {@code dir}
     */
    static Path writeReusedThis(Path dir) throws IOException {
        return write(dir, "ThisSlot", cw -> {
            MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_SYNCHRONIZED, "h",
                    "(Lsamples/gen/ThisSlot;)I", null, null);
            mv.visitCode();
            mv.visitVarInsn(Opcodes.ALOAD, 1);
            mv.visitVarInsn(Opcodes.ASTORE, 0); // this is dead: its slot now holds the argument
            mv.visitIntInsn(Opcodes.BIPUSH, 7);
            mv.visitInsn(Opcodes.IRETURN);
            mv.visitMaxs(0, 0);
            mv.visitEnd();
        });
    }

    /** Writes {@code samples.gen.<simpleName>}: a constructor, then what {@code methods} adds. */
    private static Path write(Path dir, String simpleName, Consumer<ClassWriter> methods) throws IOException {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS | ClassWriter.COMPUTE_FRAMES);
        cw.visit(Opcodes.V11, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, "samples/gen/" + simpleName, null,
                "java/lang/Object", null);
        cw.visitSource(simpleName + ".java", null);
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        methods.accept(cw);
        cw.visitEnd();
        Path file = dir.resolve("samples/gen/" + simpleName + ".class");
        Files.createDirectories(file.getParent());
        Files.write(file, cw.toByteArray());
        return dir;
    }

    private static void reusingParameter(ClassWriter cw, int access, String name, int slot) {
        MethodVisitor mv = cw.visitMethod(access, name, "(Ljava/lang/String;)I", null, null);
        mv.visitCode();
        mv.visitVarInsn(Opcodes.ALOAD, slot);
        mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/String", "length", "()I", false);
        mv.visitVarInsn(Opcodes.ISTORE, slot); // the parameter is dead: its slot now holds an int
        mv.visitVarInsn(Opcodes.ILOAD, slot);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
    }
}
