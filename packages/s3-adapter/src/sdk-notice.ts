// The AWS SDK prints a notice on Node < 22 (versions published after January 2027 will need 22) on
// its first request. The SDK version this package pins works on Node 20 and is tested there, so the
// notice says nothing to a Varve user but lands in their program's output. Set only when unset: a
// program that wants the notice sets AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false itself.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
