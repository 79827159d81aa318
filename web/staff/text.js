// The staff app's words, Spanish first. Server values are never put into these strings as HTML:
// the app writes every text with textContent.

export const STATUSES = ['INFO_RECEIVED', 'PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'AVAILABLE_FOR_PICKUP',
  'DELIVERY_FAILED', 'DELIVERED', 'EXCEPTION', 'RETURN_TO_SENDER', 'CANCELLED'];

// Tone of each status (colours in app.css), shared by buttons, badges and the chart.
export const TONE = {
  INFO_RECEIVED: 'neutral', PICKED_UP: 'info', IN_TRANSIT: 'info', OUT_FOR_DELIVERY: 'info',
  AVAILABLE_FOR_PICKUP: 'info', DELIVERY_FAILED: 'warning', DELIVERED: 'success', EXCEPTION: 'danger',
  RETURN_TO_SENDER: 'warning', CANCELLED: 'muted',
};

export const TEXT = {
  es: {
    title: 'DINEX · Personal', skip: 'Saltar al contenido', tagline: 'Personal', loading: 'Cargando…',
    online: 'En línea', offline: 'Sin conexión', langOther: 'English', langOtherCode: 'en',
    signOut: 'Salir', modesLabel: 'Modo', modeCourier: 'Escaneos', modeDispatcher: 'Atención',
    signinTitle: 'Entrar',
    signinLead: 'Escribe la clave de API que te dio tu supervisor. Se guarda solo en este dispositivo.',
    keyLabel: 'Clave de API',
    keyHint: 'La crea un administrador con «dinex-tracking keys create». Empieza por dnx_.',
    showKey: 'Mostrar la clave', signinSubmit: 'Entrar', asLegend: 'Entrar como', asCourier: 'Repartidor',
    asCourierAbout: 'registrar escaneos (clave writer)', asDispatcher: 'Despacho',
    asDispatcherAbout: 'paquetes que requieren atención (cualquier clave)',
    keyReadOnly: 'Esta clave solo permite consultar: elige «Despacho», o pide una clave de repartidor (writer).', signinChecking: 'Comprobando la clave…',
    keyEmpty: 'Escribe la clave.',
    keyMalformed: 'Esa no parece una clave de API: revisa que la copiaste entera, sin espacios.',
    keyRefused: 'El servicio no reconoce esta clave (no existe o fue revocada).',
    keyUnchecked: 'Sin conexión: la clave se comprobará al enviar el primer escaneo.',
    keyFailed: 'No se pudo comprobar la clave (el servicio respondió {status}). Inténtalo de nuevo.',
    signedIn: 'Sesión iniciada.',
    courierTitle: 'Registrar escaneo', trackingLabel: 'Número de seguimiento', camera: 'Cámara',
    cameraAim: 'Apunta al código de barras de la etiqueta.', cameraStop: 'Cerrar la cámara',
    cameraDenied: 'No hay permiso para usar la cámara. Escribe el número.',
    cameraFailed: 'No se pudo abrir la cámara. Escribe el número.',
    cameraRead: 'Código leído: {id}.',
    statusLegend: 'Estado', locationLabel: 'Lugar', locationHint: 'Se recuerda para el siguiente escaneo.',
    gps: 'Añadir las coordenadas del teléfono', gpsWaiting: 'Buscando la posición…',
    gpsReady: 'Posición lista (±{m} m).', gpsDenied: 'Sin permiso de ubicación: los escaneos se guardan sin coordenadas.',
    gpsUnavailable: 'Posición no disponible por ahora: los escaneos se guardan sin coordenadas.',
    gpsNone: 'Este navegador no da la posición.',
    notesToggle: 'Añadir una nota (opcional)', notesLabel: 'Nota', save: 'Guardar escaneo',
    idEmpty: 'Escribe o escanea el número de seguimiento.',
    idInvalid: 'Número no válido: de 3 a 40 letras, números, - o _, empezando por letra o número.',
    statusEmpty: 'Elige el estado.', locationEmpty: 'Escribe el lugar.',
    saved: 'Escaneo de {id} guardado: {status}.',
    saveFailed: 'No se pudo guardar el escaneo en el teléfono ({why}). Libera espacio o sal del modo privado.',
    scansTitle: 'Mis escaneos', syncNow: 'Enviar ahora', scansEmpty: 'Todavía no hay escaneos en este dispositivo.',
    syncIdle: 'Todo enviado.', syncPending: '{n} por enviar.', syncSending: 'Enviando {n}…',
    syncOffline: { one: 'Sin conexión: 1 espera y se enviará solo al volver la conexión.', other: 'Sin conexión: {n} esperan y se enviarán solos al volver la conexión.' },
    syncRetry: 'No se pudo enviar ({why}). Nuevo intento en {s} s.',
    syncAuth: 'El servicio ya no acepta esta clave. Sal y entra con una clave válida; los escaneos siguen guardados.',
    syncForbidden: 'Esta clave solo permite consultar. Pide una clave de repartidor (writer); los escaneos siguen guardados.',
    whyNetwork: 'sin respuesta', whyStatus: 'respuesta {status}',
    whyKey: 'el servicio ya no acepta esta clave: sal y vuelve a entrar',
    fate: { queued: 'En cola', sending: 'Enviando', sent: 'Registrado', replayed: 'Ya estaba registrado', late: 'Llegó tarde', refused: 'Rechazado' },
    fateAbout: {
      queued: 'Guardado en el teléfono; se enviará al haber conexión.',
      sent: 'El servicio lo registró.',
      replayed: 'El servicio ya lo tenía (un reenvío tras un corte); no se duplicó.',
      late: 'Registrado en el historial, pero el paquete ya tenía un escaneo más reciente.',
    },
    fateLive: 'Escaneo de {id}: {fate}.',
    refusedWhy: '{field}: {rule}.',
    field: {
      tracking_id: 'Número de seguimiento', status: 'Estado', location: 'Lugar', timestamp: 'Hora del escaneo',
      latitude: 'Latitud', longitude: 'Longitud', notes: 'Nota', event_id: 'Identificador del escaneo',
      description: 'Descripción', estimated_delivery: 'Entrega estimada',
    },
    rule: {
      required: 'es obligatorio', not_empty: 'no puede estar vacío', no_control_characters: 'tiene caracteres no permitidos',
      max_length: 'admite como máximo {n} caracteres', one_of: 'no es uno de los estados permitidos',
      pattern: 'no tiene un formato válido', range: 'debe estar entre {a} y {b}', required_with: 'debe ir junto con {other}',
      not_in_future: 'está en el futuro: revisa la hora del teléfono',
      within_retention: 'es demasiado antigua (el servicio guarda {n} días)',
      not_before: 'es demasiado temprana', not_after: 'es demasiado lejana',
      after_terminal_status: 'el paquete ya fue entregado o cancelado; no admite escaneos posteriores',
      idempotency_key_reused: 'ya se usó para otro escaneo', other: 'no cumple la regla «{rule}»',
    },
    refusedGeneric: 'El servicio lo rechazó ({status}): {error}',
    dispatcherTitle: 'Paquetes que requieren atención', filtersTitle: 'Filtros', anyStatus: 'todos los estados', filterStatus: 'Estados', filterStale: 'Sin cambios desde hace',
    staleAny: 'cualquier tiempo', stale6: '6 horas o más', stale24: '1 día o más', stale48: '2 días o más',
    stale72: '3 días o más', stale168: '1 semana o más', apply: 'Aplicar', autoRefresh: 'Actualizar cada 30 s',
    chartTitle: 'Paquetes por estado', chartNote: { one: '1 paquete activo · actualizado: {time}', other: '{n} paquetes activos · actualizado: {time}' },
    chartCapped: 'Los primeros {n} paquetes activos (hay más) · actualizado: {time}',
    chartDesc: 'Paquetes activos por estado: {list}.',
    listTitle: 'Lista', refresh: 'Actualizar', more: 'Cargar más',
    listCount: { one: '1 paquete mostrado{more} · actualizado: {time}', other: '{n} paquetes mostrados{more} · actualizado: {time}' }, listMore: ', hay más',
    listEmpty: 'Ningún paquete cumple estos filtros.', listLoading: 'Cargando…',
    listFailed: 'No se pudo cargar la lista ({why}).', noStatus: 'Elige al menos un estado o un tiempo sin cambios.',
    updated: 'cambio {rel}', events: { one: '1 escaneo', other: '{n} escaneos' },
    timelineTitle: 'Historial de {id}', timelineLoading: 'Cargando el historial…',
    timelineFailed: 'No se pudo cargar el historial ({why}).', timelineCount: { one: '1 escaneo.', other: '{n} escaneos, el más reciente primero.' },
    close: 'Cerrar', note: 'Nota:',
    signOutTitle: '¿Salir?', signOutKeep: 'Salir y conservar los escaneos',
    signOutDrop: 'Salir y borrar los escaneos sin enviar', cancel: 'Cancelar',
    signOutPending: { one: 'Hay 1 escaneo sin enviar en este teléfono. Si lo conservas, se enviará cuando alguien entre con una clave de repartidor.', other: 'Hay {n} escaneos sin enviar en este teléfono. Si los conservas, se enviarán cuando alguien entre con una clave de repartidor.' },
    signedOut: 'Sesión cerrada. La clave se borró de este dispositivo.',
    status: {
      INFO_RECEIVED: 'Información recibida', PICKED_UP: 'Recogido', IN_TRANSIT: 'En tránsito',
      OUT_FOR_DELIVERY: 'En reparto', AVAILABLE_FOR_PICKUP: 'Disponible para retiro',
      DELIVERY_FAILED: 'Entrega fallida', DELIVERED: 'Entregado', EXCEPTION: 'Incidencia',
      RETURN_TO_SENDER: 'Devolución al remitente', CANCELLED: 'Cancelado',
    },
    rel: { now: 'hace un momento', m: 'hace {n} min', h: 'hace {n} h', d: 'hace {n} d' },
  },
  en: {
    title: 'DINEX · Staff', skip: 'Skip to content', tagline: 'Staff', loading: 'Loading…',
    online: 'Online', offline: 'Offline', langOther: 'Español', langOtherCode: 'es',
    signOut: 'Sign out', modesLabel: 'Mode', modeCourier: 'Scans', modeDispatcher: 'Attention',
    signinTitle: 'Sign in',
    signinLead: 'Type the API key your supervisor gave you. It is kept on this device only.',
    keyLabel: 'API key',
    keyHint: 'An administrator makes it with “dinex-tracking keys create”. It starts with dnx_.',
    showKey: 'Show the key', signinSubmit: 'Sign in', asLegend: 'Sign in as', asCourier: 'Courier',
    asCourierAbout: 'record scans (writer key)', asDispatcher: 'Dispatch',
    asDispatcherAbout: 'packages that need attention (any key)',
    keyReadOnly: 'This key may only look things up: choose “Dispatch”, or ask for a courier (writer) key.', signinChecking: 'Checking the key…',
    keyEmpty: 'Type the key.',
    keyMalformed: 'That does not look like an API key: check that you copied all of it, without spaces.',
    keyRefused: 'The service does not know this key (it does not exist or was revoked).',
    keyUnchecked: 'Offline: the key will be checked when the first scan is sent.',
    keyFailed: 'The key could not be checked (the service answered {status}). Try again.',
    signedIn: 'Signed in.',
    courierTitle: 'Record a scan', trackingLabel: 'Tracking number', camera: 'Camera',
    cameraAim: 'Point at the barcode on the label.', cameraStop: 'Close the camera',
    cameraDenied: 'No permission to use the camera. Type the number.',
    cameraFailed: 'The camera could not be opened. Type the number.',
    cameraRead: 'Code read: {id}.',
    statusLegend: 'Status', locationLabel: 'Place', locationHint: 'Remembered for the next scan.',
    gps: 'Add the phone’s coordinates', gpsWaiting: 'Finding the position…',
    gpsReady: 'Position ready (±{m} m).', gpsDenied: 'No location permission: scans are saved without coordinates.',
    gpsUnavailable: 'Position unavailable for now: scans are saved without coordinates.',
    gpsNone: 'This browser does not give the position.',
    notesToggle: 'Add a note (optional)', notesLabel: 'Note', save: 'Save scan',
    idEmpty: 'Type or scan the tracking number.',
    idInvalid: 'Invalid number: 3 to 40 letters, digits, - or _, starting with a letter or digit.',
    statusEmpty: 'Choose the status.', locationEmpty: 'Type the place.',
    saved: 'Scan of {id} saved: {status}.',
    saveFailed: 'The scan could not be saved on the phone ({why}). Free some space or leave private mode.',
    scansTitle: 'My scans', syncNow: 'Send now', scansEmpty: 'No scans on this device yet.',
    syncIdle: 'Everything sent.', syncPending: '{n} to send.', syncSending: 'Sending {n}…',
    syncOffline: { one: 'Offline: 1 waiting; it is sent by itself when the connection is back.', other: 'Offline: {n} waiting; they are sent by themselves when the connection is back.' },
    syncRetry: 'Could not send ({why}). Next try in {s} s.',
    syncAuth: 'The service no longer accepts this key. Sign out and in with a valid key; the scans stay saved.',
    syncForbidden: 'This key may only look things up. Ask for a courier (writer) key; the scans stay saved.',
    whyNetwork: 'no answer', whyStatus: 'answer {status}',
    whyKey: 'the service no longer accepts this key: sign out and in again',
    fate: { queued: 'Queued', sending: 'Sending', sent: 'Recorded', replayed: 'Already recorded', late: 'Arrived late', refused: 'Refused' },
    fateAbout: {
      queued: 'Saved on the phone; sent when there is a connection.',
      sent: 'The service recorded it.',
      replayed: 'The service already had it (a resend after a cut); not duplicated.',
      late: 'Recorded in the history, but the package already had a newer scan.',
    },
    fateLive: 'Scan of {id}: {fate}.',
    refusedWhy: '{field}: {rule}.',
    field: {
      tracking_id: 'Tracking number', status: 'Status', location: 'Place', timestamp: 'Scan time',
      latitude: 'Latitude', longitude: 'Longitude', notes: 'Note', event_id: 'Scan id',
      description: 'Description', estimated_delivery: 'Estimated delivery',
    },
    rule: {
      required: 'is required', not_empty: 'must not be empty', no_control_characters: 'has characters that are not allowed',
      max_length: 'takes at most {n} characters', one_of: 'is not one of the allowed statuses',
      pattern: 'is not in a valid format', range: 'must be between {a} and {b}', required_with: 'must come with {other}',
      not_in_future: 'is in the future: check the phone’s clock',
      within_retention: 'is too old (the service keeps {n} days)',
      not_before: 'is too early', not_after: 'is too far ahead',
      after_terminal_status: 'the package was already delivered or cancelled; no later scan is accepted',
      idempotency_key_reused: 'was already used for another scan', other: 'breaks the rule “{rule}”',
    },
    refusedGeneric: 'The service refused it ({status}): {error}',
    dispatcherTitle: 'Packages that need attention', filtersTitle: 'Filters', anyStatus: 'every status', filterStatus: 'Statuses', filterStale: 'No change for',
    staleAny: 'any time', stale6: '6 hours or more', stale24: '1 day or more', stale48: '2 days or more',
    stale72: '3 days or more', stale168: '1 week or more', apply: 'Apply', autoRefresh: 'Refresh every 30 s',
    chartTitle: 'Packages by status', chartNote: { one: '1 active package · updated: {time}', other: '{n} active packages · updated: {time}' },
    chartCapped: 'The first {n} active packages (there are more) · updated: {time}',
    chartDesc: 'Active packages by status: {list}.',
    listTitle: 'List', refresh: 'Refresh', more: 'Load more',
    listCount: { one: '1 package shown{more} · updated: {time}', other: '{n} packages shown{more} · updated: {time}' }, listMore: ', more available',
    listEmpty: 'No package matches these filters.', listLoading: 'Loading…',
    listFailed: 'The list could not be loaded ({why}).', noStatus: 'Choose at least one status or a time without change.',
    updated: 'changed {rel}', events: { one: '1 scan', other: '{n} scans' },
    timelineTitle: 'History of {id}', timelineLoading: 'Loading the history…',
    timelineFailed: 'The history could not be loaded ({why}).', timelineCount: { one: '1 scan.', other: '{n} scans, newest first.' },
    close: 'Close', note: 'Note:',
    signOutTitle: 'Sign out?', signOutKeep: 'Sign out, keep the scans',
    signOutDrop: 'Sign out, delete the unsent scans', cancel: 'Cancel',
    signOutPending: { one: 'There is 1 unsent scan on this phone. If you keep it, it is sent when someone signs in with a courier key.', other: 'There are {n} unsent scans on this phone. If you keep them, they are sent when someone signs in with a courier key.' },
    signedOut: 'Signed out. The key was deleted from this device.',
    status: {
      INFO_RECEIVED: 'Information received', PICKED_UP: 'Picked up', IN_TRANSIT: 'In transit',
      OUT_FOR_DELIVERY: 'Out for delivery', AVAILABLE_FOR_PICKUP: 'Ready for pickup',
      DELIVERY_FAILED: 'Delivery failed', DELIVERED: 'Delivered', EXCEPTION: 'Exception',
      RETURN_TO_SENDER: 'Returning to sender', CANCELLED: 'Cancelled',
    },
    rel: { now: 'just now', m: '{n} min ago', h: '{n} h ago', d: '{n} d ago' },
  },
};

// A template, or {one, other} chosen by values.n.
export function fill(template, values = {}) {
  if (typeof template === 'object') template = values.n === 1 ? template.one : template.other;
  return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

// One refused item's reason in words: "Status: the package was already delivered …".
export function reasonWords(tx, detail) {
  const field = tx.field[detail.field] ?? detail.field;
  const raw = String(detail.rule ?? '');
  const colon = raw.indexOf(':');
  const name = colon < 0 ? raw : raw.slice(0, colon);
  const arg = colon < 0 ? '' : raw.slice(colon + 1);
  let rule;
  if (name === 'max_length') rule = fill(tx.rule.max_length, { n: arg });
  else if (name === 'range') {
    const [a, b] = arg.split('..');
    rule = fill(tx.rule.range, { a, b });
  } else if (name === 'required_with') rule = fill(tx.rule.required_with, { other: tx.field[arg] ?? arg });
  else if (name === 'within_retention') rule = fill(tx.rule.within_retention, { n: arg.replace(/\D+/g, '') || '?' });
  else if (name in tx.rule && name !== 'other') rule = tx.rule[name];
  else rule = fill(tx.rule.other, { rule: raw });
  return fill(tx.refusedWhy, { field, rule });
}
