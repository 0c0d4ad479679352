// Text of the hotline pages in English and Russian. Elements carry
// data-i18n="key" (text), data-i18n-placeholder="key" or
// data-i18n-state="state" (an agent state name); apply() fills them in.
'use strict';

(function () {
  const strings = {
    en: {
      app_title: 'Hotline agent',
      login_title: 'Sign in to the hotline',
      username: 'User name',
      password: 'Password',
      btn_sign_in: 'Sign in',
      sign_out: 'Sign out',
      language: 'Language',
      login_wrong: 'Wrong user name or password.',
      login_throttled: 'Too many attempts. Try again in {s} s.',
      login_failed: 'Sign-in failed. Try again later.',
      login_missing: 'Enter your user name and password.',
      conn_connecting: 'Connecting…',
      conn_up: 'Connected',
      conn_down: 'Connection lost, reconnecting…',
      your_state: 'Your state',
      reason: 'Reason',
      btn_ready: 'Ready',
      btn_not_ready: 'Not ready',
      incoming_call: 'Incoming call',
      queue: 'Queue',
      caller_language: 'Caller\'s language',
      serial: 'Serial number',
      ivr_choices: 'IVR choices',
      open_tickets: 'Open tickets',
      btn_accept: 'Accept',
      btn_reject: 'Reject',
      on_call_with: 'Call with',
      btn_mute: 'Mute',
      btn_unmute: 'Unmute',
      btn_hold: 'Hold',
      btn_resume: 'Resume',
      btn_hangup: 'Hang up',
      transfer: 'Transfer',
      transfer_to: 'To',
      transfer_queue: 'Queue',
      transfer_agent: 'Agent',
      transfer_target: 'queue or agent name',
      btn_transfer: 'Transfer',
      wrapup: 'Wrap-up',
      note: 'Note',
      disposition: 'Disposition',
      disp_resolved: 'Resolved',
      disp_follow_up: 'Needs follow-up',
      disp_escalated: 'Escalated',
      disp_wrong_number: 'Wrong number',
      disp_other: 'Other',
      btn_done: 'Done',
      unknown_caller: 'Unknown number',
      none: '—',
      call_connected: 'Connected',
      call_held: 'On hold',
      call_ended: 'Ended',
      cancel_caller_hangup: 'The caller hung up before you answered.',
      cancel_timeout: 'The call was not answered in time and went to another agent.',
      cancel_taken: 'Another agent took the call.',
      cancel_other: 'The call is no longer offered to you.',
      call_ended_caller: 'The caller hung up.',
      call_ended_agent: 'You ended the call.',
      call_ended_other: 'The call ended.',
      call_transferred: 'The call was transferred.',
      sound_hint: 'Click anywhere on the page to turn on the ring sound.',
      mic_denied: 'No microphone: allow microphone access for this page, then reload.',
      mic_failed: 'The microphone could not be opened: {m}',
      audio_failed: 'The audio connection failed; reconnecting.',
      dtmf_sent: 'Sent: {d}',
      err_generic: 'The server refused the request: {m}',
      err_transfer: 'The call was not transferred; it is still yours. {m}',
      err_forbidden: 'That call is not yours.',
      err_version: 'This page is out of date; reload it.',
      err_bad_state: 'That is not possible in your current state.',
      err_not_found: 'That call has already ended.',
      err_replaced: 'This agent is now signed in on another page or tab. Reload this page to use it here.',
      conn_replaced: 'In use elsewhere',
      state_signed_out: 'Signed out',
      state_ready: 'Ready',
      state_not_ready: 'Not ready',
      state_offered: 'Ringing',
      state_on_call: 'On a call',
      state_on_hold: 'Call on hold',
      state_wrap_up: 'Wrap-up',
      reason_missed_call: 'Missed call',
      reason_disconnected: 'Disconnected',
      reason_break: 'Break',
      reason_lunch: 'Lunch',
      reason_meeting: 'Meeting',
      reason_training: 'Training',
      reason_admin: 'Paperwork',
      lang_en: 'English',
      lang_ru: 'Russian',
      nav_recordings: 'Recordings',
      nav_agent: 'Agent desk',
      recordings_title: 'Call recordings',
      btn_pause_rec: 'Pause recording',
      btn_resume_rec: 'Resume recording',
      rec_on: '● Recording',
      rec_paused: 'Recording paused',
      err_pause: 'The recording was not paused or resumed: {m}',
      recent_calls: 'Recent calls',
      all_recordings: 'All recordings',
      recent_empty: 'No recorded calls yet.',
      recent_failed: 'The recent calls could not be loaded.',
      filter_agent: 'Agent',
      filter_from: 'From',
      filter_to: 'To',
      filter_call: 'Call ID',
      btn_apply: 'Show',
      btn_clear: 'Clear',
      col_started: 'Started',
      col_duration: 'Duration',
      col_agents: 'Agents',
      col_state: 'State',
      col_audio: 'Audio',
      col_file: 'File',
      col_hold: 'Legal hold',
      col_call: 'Call',
      btn_download: 'Download',
      btn_prev: 'Previous',
      btn_next: 'Next',
      page_n: 'Page {n}',
      rec_empty: 'No recordings match.',
      rec_only_yours: 'You see the recordings of your own calls.',
      rec_failed_load: 'The recordings could not be loaded: {m}',
      rec_hold_failed: 'The legal hold was not changed: {m}',
      rec_bad_range: '“From” must be before “To”.',
      rec_no_audio: 'No audio',
      rec_state_recording: 'Recording now',
      rec_state_complete: 'Complete',
      rec_state_recovered: 'Recovered',
      rec_state_failed: 'Failed',
      rec_state_deleted: 'Deleted',
      tickets: 'Tickets',
      ticket_auto: 'If you attach no ticket, one is created from this call when you finish wrap-up.',
      ticket_attached_to: 'This call is attached to {n}.',
      ticket_caller_open: 'The caller\'s open tickets',
      ticket_none: 'The caller has no open tickets.',
      ticket_find: 'Find a ticket',
      ticket_find_hint: 'T-000123, phone or serial number',
      btn_search: 'Search',
      ticket_results_none: 'No tickets found.',
      btn_ticket_new: 'New ticket',
      ticket_new_title: 'New ticket for this call',
      ticket_subject: 'Subject',
      ticket_status: 'Status',
      tstatus_new: 'New',
      tstatus_open: 'Open',
      tstatus_pending: 'Pending',
      tstatus_solved: 'Solved',
      tstatus_closed: 'Closed',
      btn_ticket_create: 'Create and attach this call',
      btn_cancel: 'Cancel',
      btn_attach: 'Attach this call',
      ticket_is_attached: 'Attached',
      ticket_missed: 'Missed call',
      ticket_updated: 'updated {d}',
      ticket_err: 'The ticket request failed: {m}',
      ticket_offline: 'the server is not reachable',
      ticket_subject_call: 'Call',
      ticket_subject_queue: 'Call to {q}',
      ticket_subject_serial: ', serial {s}',
      disp_choose: '— pick one —',
      disp_required: 'Pick a disposition to finish wrap-up.',
      err_disposition: 'Wrap-up needs a disposition. {m}',
    },
    ru: {
      app_title: 'Горячая линия — оператор',
      login_title: 'Вход на горячую линию',
      username: 'Имя пользователя',
      password: 'Пароль',
      btn_sign_in: 'Войти',
      sign_out: 'Выйти',
      language: 'Язык',
      login_wrong: 'Неверное имя пользователя или пароль.',
      login_throttled: 'Слишком много попыток. Повторите через {s} с.',
      login_failed: 'Не удалось войти. Повторите позже.',
      login_missing: 'Введите имя пользователя и пароль.',
      conn_connecting: 'Подключение…',
      conn_up: 'Подключено',
      conn_down: 'Связь потеряна, переподключение…',
      your_state: 'Ваш статус',
      reason: 'Причина',
      btn_ready: 'Готов',
      btn_not_ready: 'Не готов',
      incoming_call: 'Входящий звонок',
      queue: 'Очередь',
      caller_language: 'Язык звонящего',
      serial: 'Серийный номер',
      ivr_choices: 'Выбор в меню',
      open_tickets: 'Открытые заявки',
      btn_accept: 'Принять',
      btn_reject: 'Отклонить',
      on_call_with: 'Разговор с',
      btn_mute: 'Выключить микрофон',
      btn_unmute: 'Включить микрофон',
      btn_hold: 'Удержание',
      btn_resume: 'Снять с удержания',
      btn_hangup: 'Завершить',
      transfer: 'Перевод',
      transfer_to: 'Куда',
      transfer_queue: 'Очередь',
      transfer_agent: 'Оператор',
      transfer_target: 'очередь или оператор',
      btn_transfer: 'Перевести',
      wrapup: 'Обработка после звонка',
      note: 'Заметка',
      disposition: 'Итог',
      disp_resolved: 'Решено',
      disp_follow_up: 'Нужно продолжение',
      disp_escalated: 'Передано выше',
      disp_wrong_number: 'Ошиблись номером',
      disp_other: 'Другое',
      btn_done: 'Готово',
      unknown_caller: 'Номер неизвестен',
      none: '—',
      call_connected: 'Соединено',
      call_held: 'На удержании',
      call_ended: 'Завершён',
      cancel_caller_hangup: 'Звонящий положил трубку до ответа.',
      cancel_timeout: 'Звонок не приняли вовремя, он передан другому оператору.',
      cancel_taken: 'Звонок принял другой оператор.',
      cancel_other: 'Звонок больше не предлагается вам.',
      call_ended_caller: 'Звонящий положил трубку.',
      call_ended_agent: 'Вы завершили звонок.',
      call_ended_other: 'Звонок завершён.',
      call_transferred: 'Звонок переведён.',
      sound_hint: 'Щёлкните в любом месте страницы, чтобы включить звук звонка.',
      mic_denied: 'Нет микрофона: разрешите доступ к микрофону для этой страницы и перезагрузите её.',
      mic_failed: 'Не удалось открыть микрофон: {m}',
      audio_failed: 'Аудиосоединение прервалось; переподключение.',
      dtmf_sent: 'Отправлено: {d}',
      err_generic: 'Сервер отклонил запрос: {m}',
      err_transfer: 'Звонок не переведён и остаётся у вас. {m}',
      err_forbidden: 'Это не ваш звонок.',
      err_version: 'Страница устарела; перезагрузите её.',
      err_bad_state: 'В текущем статусе это невозможно.',
      err_not_found: 'Этот звонок уже завершён.',
      err_replaced: 'Этот оператор открыл страницу в другой вкладке. Перезагрузите эту страницу, чтобы работать здесь.',
      conn_replaced: 'Открыто в другой вкладке',
      state_signed_out: 'Не в системе',
      state_ready: 'Готов',
      state_not_ready: 'Не готов',
      state_offered: 'Входящий звонок',
      state_on_call: 'Разговор',
      state_on_hold: 'Звонок на удержании',
      state_wrap_up: 'Обработка после звонка',
      reason_missed_call: 'Пропущенный звонок',
      reason_disconnected: 'Отключён',
      reason_break: 'Перерыв',
      reason_lunch: 'Обед',
      reason_meeting: 'Совещание',
      reason_training: 'Обучение',
      reason_admin: 'Работа с документами',
      lang_en: 'английский',
      lang_ru: 'русский',
      nav_recordings: 'Записи',
      nav_agent: 'Рабочее место',
      recordings_title: 'Записи разговоров',
      btn_pause_rec: 'Приостановить запись',
      btn_resume_rec: 'Возобновить запись',
      rec_on: '● Идёт запись',
      rec_paused: 'Запись приостановлена',
      err_pause: 'Запись не удалось приостановить или возобновить: {m}',
      recent_calls: 'Последние звонки',
      all_recordings: 'Все записи',
      recent_empty: 'Записанных звонков пока нет.',
      recent_failed: 'Не удалось загрузить последние звонки.',
      filter_agent: 'Оператор',
      filter_from: 'С',
      filter_to: 'По',
      filter_call: 'ID звонка',
      btn_apply: 'Показать',
      btn_clear: 'Сбросить',
      col_started: 'Начало',
      col_duration: 'Длительность',
      col_agents: 'Операторы',
      col_state: 'Состояние',
      col_audio: 'Запись',
      col_file: 'Файл',
      col_hold: 'Юридическое удержание',
      col_call: 'Звонок',
      btn_download: 'Скачать',
      btn_prev: 'Назад',
      btn_next: 'Далее',
      page_n: 'Страница {n}',
      rec_empty: 'Подходящих записей нет.',
      rec_only_yours: 'Вы видите записи только своих звонков.',
      rec_failed_load: 'Не удалось загрузить записи: {m}',
      rec_hold_failed: 'Юридическое удержание не изменено: {m}',
      rec_bad_range: '«С» должно быть раньше, чем «По».',
      rec_no_audio: 'Нет звука',
      rec_state_recording: 'Идёт запись',
      rec_state_complete: 'Готова',
      rec_state_recovered: 'Восстановлена',
      rec_state_failed: 'Сбой',
      rec_state_deleted: 'Удалена',
      tickets: 'Заявки',
      ticket_auto: 'Если не прикрепить звонок к заявке, после обработки по нему будет создана новая заявка.',
      ticket_attached_to: 'Звонок прикреплён к заявке {n}.',
      ticket_caller_open: 'Открытые заявки звонящего',
      ticket_none: 'У звонящего нет открытых заявок.',
      ticket_find: 'Найти заявку',
      ticket_find_hint: 'T-000123, телефон или серийный номер',
      btn_search: 'Найти',
      ticket_results_none: 'Заявки не найдены.',
      btn_ticket_new: 'Новая заявка',
      ticket_new_title: 'Новая заявка по этому звонку',
      ticket_subject: 'Тема',
      ticket_status: 'Статус',
      tstatus_new: 'Новая',
      tstatus_open: 'Открыта',
      tstatus_pending: 'Ожидает',
      tstatus_solved: 'Решена',
      tstatus_closed: 'Закрыта',
      btn_ticket_create: 'Создать и прикрепить звонок',
      btn_cancel: 'Отмена',
      btn_attach: 'Прикрепить звонок',
      ticket_is_attached: 'Прикреплён',
      ticket_missed: 'Пропущенный звонок',
      ticket_updated: 'изменена {d}',
      ticket_err: 'Запрос по заявке не выполнен: {m}',
      ticket_offline: 'нет связи с сервером',
      ticket_subject_call: 'Звонок',
      ticket_subject_queue: 'Звонок в очередь {q}',
      ticket_subject_serial: ', серийный номер {s}',
      disp_choose: '— выберите —',
      disp_required: 'Выберите итог, чтобы завершить обработку.',
      err_disposition: 'Для завершения обработки нужен итог. {m}',
    },
  };

  const storageKey = 'hotline.lang';

  // detect picks the language: ?lang=, then the saved choice, then the
  // browser's language; English when none of them is Russian.
  function detect() {
    const q = new URLSearchParams(location.search).get('lang');
    if (q && strings[q]) return q;
    try {
      const saved = localStorage.getItem(storageKey);
      if (saved && strings[saved]) return saved;
    } catch (e) { /* storage may be off */ }
    const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
    for (const l of langs) {
      const base = String(l).toLowerCase().split('-')[0];
      if (strings[base]) return base;
    }
    return 'en';
  }

  let current = detect();

  // t returns the text for key in the current language, with {name}
  // placeholders replaced from params; unknown keys fall back to English,
  // then to the key itself.
  function t(key, params) {
    let s = (strings[current] && strings[current][key]) || strings.en[key];
    if (s === undefined) return key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
    }
    return s;
  }

  // has reports whether key has a text.
  function has(key) { return key in strings.en; }

  // apply fills every marked element of root with the current language.
  function apply(root) {
    root = root || document;
    document.documentElement.lang = current;
    root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    root.querySelectorAll('[data-i18n-state]').forEach((el) => { el.textContent = t('state_' + el.dataset.i18nState); });
    const sel = document.getElementById('lang');
    if (sel) sel.value = current;
  }

  const listeners = [];

  // set switches the language, remembers it and redraws.
  function set(lang) {
    if (!strings[lang]) return;
    current = lang;
    try { localStorage.setItem(storageKey, lang); } catch (e) { /* storage may be off */ }
    apply();
    listeners.forEach((fn) => fn(lang));
  }

  // onChange registers fn to run after each language switch.
  function onChange(fn) { listeners.push(fn); }

  function wireSelector() {
    const sel = document.getElementById('lang');
    if (sel) sel.addEventListener('change', () => set(sel.value));
    apply();
  }

  window.HotlineI18n = { t, has, apply, set, onChange, lang: () => current };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', wireSelector);
  } else {
    wireSelector();
  }
})();
