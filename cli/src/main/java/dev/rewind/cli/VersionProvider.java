package dev.rewind.cli;

import picocli.CommandLine.IVersionProvider;

/** {@code rewind --version}: the version the jar was built as. */
public final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = RewindCommand.class.getPackage().getImplementationVersion();
        return new String[] {"rewind " + (v == null ? "development build" : v), "Java " + System.getProperty("java.version")};
    }
}
