package dev.idaas;

/** A child-JVM entry point for NativeLoaderTest: loads the library and prints where from. */
public final class LoaderProbe {
    public static void main(String[] args) {
        try {
            System.out.println("version " + Idaas.version() + " from " + Idaas.nativeLibraryLocation());
        } catch (Throwable e) {
            Throwable t = e;
            while (t.getCause() != null) t = t.getCause();
            System.out.println("FAILED " + t);
            System.exit(3);
        }
    }
}
