import './ec-app.js';
