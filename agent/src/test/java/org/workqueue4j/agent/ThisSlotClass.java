package org.workqueue4j.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Writes {@code samples.gen.ThisSlot}: {@code public synchronized int h(ThisSlot other)} whose
 * code stores {@code other} into local 0 (the slot of {@code this}, dead after the first
 * instruction) and returns 7. Valid bytecode (the JVM releases the monitor of the receiver it
 * entered, whatever local 0 holds later), of the kind optimizers emit when they reuse dead slots.
 */
final class ThisSlotClass {
    private ThisSlotClass() {
    }

    /** Writes the class under {@code dir} and returns {@code dir}. */
    static Path writeTo(Path dir) throws IOException {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS | ClassWriter.COMPUTE_FRAMES);
        cw.visit(Opcodes.V11, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, "samples/gen/ThisSlot", null, "java/lang/Object", null);
        cw.visitSource("ThisSlot.java", null);
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_SYNCHRONIZED, "h",
                "(Lsamples/gen/ThisSlot;)I", null, null);
        mv.visitCode();
        mv.visitVarInsn(Opcodes.ALOAD, 1);
        mv.visitVarInsn(Opcodes.ASTORE, 0); // this is dead: its slot now holds the argument
        mv.visitIntInsn(Opcodes.BIPUSH, 7);
        mv.visitInsn(Opcodes.IRETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        Path file = dir.resolve("samples/gen/ThisSlot.class");
        Files.createDirectories(file.getParent());
        Files.write(file, cw.toByteArray());
        return dir;
    }
}
