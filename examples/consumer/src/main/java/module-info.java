/** An application using refact-java as a library, on the module path. */
module dev.refact.consumer {
    requires dev.refact.core;   // reads dev.refact.clip (and JavaCPP PyTorch) transitively
}
