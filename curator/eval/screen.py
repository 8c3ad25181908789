"""A static screen of a prediction's code before it is compiled: the pieces Warp generates
never include files, declare external functions, use inline assembly or call the C library's
file, process or network functions, so a prediction that does is rejected (a model that reads
the release or writes outside its folder is caught here; the worker's limits catch the rest)."""

from __future__ import annotations

import re

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"' + r"|'(?:\\.|[^'\\\n])*'")
_CUDA_ENTRY = re.compile(r'\bextern\s+"C"\s+__global__\b')  # how Warp declares a CUDA kernel
_WORDS = re.compile(r"#|\b(?:asm|__asm__|__asm|extern|__attribute__|_Pragma|dlopen|dlsym|syscall)\b|\bstd\s*::")
_CALLS = re.compile(
    r"(?<![.>\w])(?:f?open|open64|openat|creat|f?read|f?write|pread|pwrite|f?close|fseek|fgets|fputs|"
    r"system|popen|exec[lv]p?e?|fork|vfork|clone|socket|connect|bind|listen|accept|mmap|mprotect|"
    r"unlink|remove|rename|getenv|setenv|putenv|chdir|mkdir|rmdir|ptrace|kill|signal|sigaction|"
    r"dup2?|pipe|ioctl|fcntl|stat|lstat|truncate)\s*\("
)
_TYPES = re.compile(r"\b(?:FILE|ifstream|ofstream|fstream|DIR)\b")


def screen(code: str, device: str = "cpu") -> str:
    """'' if the code may be compiled, else the first forbidden construct, in words."""
    text = _COMMENT.sub(" ", code)
    if device == "cuda":
        text = _CUDA_ENTRY.sub(" ", text)
    text = _STRING.sub('""', text)
    for pattern in (_WORDS, _CALLS, _TYPES):
        m = pattern.search(text)
        if m:
            what = m.group(0).rstrip("( \t")
            return f"forbidden construct {what!r} (file, process or system access, or code outside a kernel)"
    return ""
