// The Content-Type an object gets when its PUT names none (or asks X-Detect-Content-Type):
// guessed from the name's extension as Python's mimetypes does for Swift, so "a.tar.gz" is a
// tar archive and "a.gz" (an encoding, not a type) stays application/octet-stream.

const TYPES: Record<string, string> = {
  '.txt': 'text/plain', '.text': 'text/plain', '.log': 'text/plain', '.conf': 'text/plain', '.ini': 'text/plain',
  '.c': 'text/plain', '.h': 'text/plain', '.py': 'text/x-python', '.sh': 'application/x-sh', '.pl': 'text/plain',
  '.html': 'text/html', '.htm': 'text/html', '.css': 'text/css', '.csv': 'text/csv', '.md': 'text/markdown',
  '.xml': 'text/xml', '.xsl': 'application/xml', '.rtf': 'application/rtf', '.ics': 'text/calendar',
  '.vcf': 'text/x-vcard', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.yaml': 'application/yaml', '.yml': 'application/yaml', '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.jpe': 'image/jpeg', '.png': 'image/png', '.gif': 'image/gif',
  '.bmp': 'image/bmp', '.ico': 'image/vnd.microsoft.icon', '.svg': 'image/svg+xml', '.tif': 'image/tiff',
  '.tiff': 'image/tiff', '.webp': 'image/webp', '.avif': 'image/avif', '.heic': 'image/heic',
  '.mp3': 'audio/mpeg', '.wav': 'audio/x-wav', '.ogg': 'audio/ogg', '.oga': 'audio/ogg', '.flac': 'audio/flac',
  '.aac': 'audio/aac', '.m4a': 'audio/mp4', '.opus': 'audio/opus', '.mid': 'audio/midi', '.midi': 'audio/midi',
  '.mp4': 'video/mp4', '.m4v': 'video/mp4', '.mpeg': 'video/mpeg', '.mpg': 'video/mpeg', '.mov': 'video/quicktime',
  '.qt': 'video/quicktime', '.webm': 'video/webm', '.avi': 'video/x-msvideo', '.mkv': 'video/x-matroska',
  '.ogv': 'video/ogg', '.3gp': 'audio/3gpp',
  '.pdf': 'application/pdf', '.ps': 'application/postscript', '.eps': 'application/postscript',
  '.zip': 'application/zip', '.tar': 'application/x-tar', '.gtar': 'application/x-gtar', '.7z': 'application/x-7z-compressed',
  '.rar': 'application/vnd.rar', '.jar': 'application/java-archive', '.iso': 'application/x-iso9660-image',
  '.img': 'application/octet-stream', '.qcow2': 'application/octet-stream', '.bin': 'application/octet-stream',
  '.exe': 'application/octet-stream', '.so': 'application/octet-stream', '.o': 'application/octet-stream',
  '.deb': 'application/vnd.debian.binary-package', '.rpm': 'application/x-rpm',
  '.doc': 'application/msword', '.dot': 'application/msword', '.xls': 'application/vnd.ms-excel',
  '.ppt': 'application/vnd.ms-powerpoint', '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.odt': 'application/vnd.oasis.opendocument.text', '.ods': 'application/vnd.oasis.opendocument.spreadsheet',
  '.odp': 'application/vnd.oasis.opendocument.presentation', '.epub': 'application/epub+zip',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.otf': 'font/otf',
  '.swf': 'application/x-shockwave-flash', '.torrent': 'application/x-bittorrent',
};

/** Shorthand suffixes that stand for an archive plus its compression. */
const SUFFIXES: Record<string, string> = { '.tgz': '.tar.gz', '.taz': '.tar.gz', '.tz': '.tar.gz', '.tbz2': '.tar.bz2', '.txz': '.tar.xz' };
/** Compression suffixes: the type is whatever precedes them. */
const ENCODINGS = new Set(['.gz', '.z', '.bz2', '.xz', '.br']);

function extension(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot);
}

/** The type for an object name; undefined when the name does not tell. */
export function guessContentType(name: string): string | undefined {
  let rest = name;
  let ext = extension(rest);
  const expanded = SUFFIXES[ext] ?? SUFFIXES[ext.toLowerCase()];
  if (expanded) {
    rest = rest.slice(0, -ext.length) + expanded;
    ext = extension(rest);
  }
  if (ENCODINGS.has(ext.toLowerCase())) {
    rest = rest.slice(0, -ext.length);
    ext = extension(rest);
  }
  if (!ext) return undefined;
  return TYPES[ext] ?? TYPES[ext.toLowerCase()];
}
